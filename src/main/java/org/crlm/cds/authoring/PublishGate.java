package org.crlm.cds.authoring;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.cdshooks.PrefetchTemplates;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.CqlMessage;
import org.crlm.cds.rules.EvaluationSession;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.rules.RuleSetBuilder;
import org.springframework.stereotype.Component;

/**
 * The check every knowledge write passes before it is stored: the whole candidate knowledge set
 * (the stored knowledge with the write applied) must compile with every reference resolved
 * (libraries, include versions, value sets, expansions, prefetch templates), and every scenario
 * of the {@link ScenarioStore} must evaluate under it with no rule failing. A scenario whose
 * cards change (compared with the rules in service) is accepted only when its expectation says
 * so: the one in the store, or one the same request supplies. A candidate that runs past the
 * evaluation deadline ({@code crlm.rules.budget}) is refused at the first scenario that does.
 */
@Component
public class PublishGate {

    /** A scenario whose fired rules differ between the rules in service and the candidate. */
    public record ScenarioChange(
            String scenario,
            String title,
            String hook,
            Set<String> before,
            Set<String> after,
            Set<String> expected,
            boolean accepted) {}

    /** The gate's answer: problems (any refuses), and every scenario change with whether it was expected. */
    public record Verdict(
            Optional<RuleSet> ruleSet,
            List<CqlMessage> problems,
            List<CqlMessage> warnings,
            List<ScenarioChange> changes,
            int scenariosRun) {

        public boolean ok() {
            return problems.isEmpty();
        }
    }

    private final RuleLibraryCache ruleCache;
    private final ScenarioStore scenarios;
    private final RuleTestRunner runner;
    private final ServiceCatalog catalog = new ServiceCatalog();
    private volatile Baseline baseline = new Baseline(-1, -1, Map.of());

    private record Baseline(long generation, long scenarios, Map<String, Set<String>> fired) {}

    public PublishGate(RuleLibraryCache ruleCache, ScenarioStore scenarios, DecisionEvaluator evaluator) {
        this.ruleCache = ruleCache;
        this.scenarios = scenarios;
        this.runner = new RuleTestRunner(evaluator, new ServiceCatalog());
    }

    /** Checks a candidate; {@code updatedExpectations} (scenario id → rules) come with the same request. */
    public Verdict check(KnowledgeResources candidate, Map<String, Set<String>> updatedExpectations) {
        RuleSetBuilder.Result built = ruleCache.validate(candidate);
        if (!built.ok()) {
            return new Verdict(Optional.empty(), built.problems(), built.warnings(), List.of(), 0);
        }
        RuleSet rules = built.ruleSet().orElseThrow();
        List<CqlMessage> problems = new ArrayList<>();
        for (ServiceDefinition service : catalog.services(rules)) {
            service.prefetch().forEach((key, template) -> {
                try {
                    PrefetchTemplates.expandValueSets(template, rules);
                } catch (RuntimeException e) {
                    problems.add(problem("PlanDefinition/" + service.id(), "prefetch " + key + ": " + e.getMessage()));
                }
            });
        }
        problems.addAll(CardThresholds.check(catalog.services(rules), rules));
        Map<String, Set<String>> before = baseline();
        List<ScenarioChange> changes = new ArrayList<>();
        List<RuleTestCase> cases = scenarios.cases();
        for (RuleTestCase scenario : cases) {
            RuleTestRunner.Outcome outcome;
            try {
                outcome = runner.run(rules, scenario);
            } catch (RuntimeException e) {
                problems.add(problem("scenario " + scenario.id(), e.getMessage()));
                continue;
            }
            outcome.failures()
                    .forEach((rule, why) -> problems.add(problem(
                            "scenario " + scenario.id(),
                            "rule " + rule + " fails to evaluate under the candidate: " + why)));
            if (timedOut(outcome)) {
                // Each further scenario would wait out the same deadline: one is enough to refuse.
                problems.add(problem(
                        "scenario " + scenario.id(),
                        "the candidate runs past the evaluation deadline; the remaining scenarios were not run"));
                break;
            }
            Set<String> after = new TreeSet<>(outcome.fired());
            Set<String> was = before.get(scenario.id());
            if (was == null || was.equals(after)) {
                continue;
            }
            Set<String> expected =
                    new TreeSet<>(updatedExpectations.getOrDefault(scenario.id(), scenario.expectedRules()));
            boolean accepted = expected.equals(after);
            changes.add(new ScenarioChange(
                    scenario.id(), scenario.title(), scenario.hook(), was, after, expected, accepted));
            if (!accepted) {
                problems.add(
                        problem(
                                "scenario " + scenario.id(),
                                "\"" + scenario.title() + "\" would change its cards from "
                                        + text(was) + " to " + text(after) + " but expects " + text(expected)
                                        + "; publish the scenario's new expected rules in the same request, or change the candidate"));
            }
        }
        updatedExpectations.keySet().stream()
                .filter(id -> cases.stream().noneMatch(c -> c.id().equals(id)))
                .forEach(id -> problems.add(problem("scenario " + id, "no such scenario in the scenario store")));
        return new Verdict(
                problems.isEmpty() ? Optional.of(rules) : Optional.empty(),
                List.copyOf(problems),
                built.warnings(),
                List.copyOf(changes),
                cases.size());
    }

    /** The candidate's rule set when it compiles, whatever the scenarios say (for previews). */
    public Optional<RuleSet> compileOnly(KnowledgeResources candidate) {
        return ruleCache.validate(candidate).ruleSet();
    }

    /** What each scenario fires under the rules in service (computed once per generation). */
    private Map<String, Set<String>> baseline() {
        Optional<RuleSet> live = ruleCache.current();
        if (live.isEmpty()) {
            return Map.of();
        }
        Baseline current = baseline;
        long revision = scenarios.revision();
        if (current.generation() != live.get().generation() || current.scenarios() != revision) {
            Map<String, Set<String>> fired = new LinkedHashMap<>();
            for (RuleTestCase scenario : scenarios.cases()) {
                try {
                    fired.put(
                            scenario.id(),
                            new TreeSet<>(runner.run(live.get(), scenario).fired()));
                } catch (RuntimeException e) {
                    // A scenario the rules in service cannot run has no "before" to compare with.
                }
            }
            current = new Baseline(live.get().generation(), revision, Map.copyOf(fired));
            baseline = current;
        }
        return current.fired();
    }

    private static boolean timedOut(RuleTestRunner.Outcome outcome) {
        return outcome.decision().rules().stream()
                .anyMatch(r -> r.failure() != null
                        && EvaluationSession.TIMEOUT.equals(r.failure().errorType()));
    }

    static String text(Set<String> rules) {
        return rules.isEmpty() ? "(none)" : String.join(", ", rules);
    }

    private static CqlMessage problem(String where, String message) {
        return new CqlMessage(CqlMessage.Severity.ERROR, where, null, null, message);
    }
}
