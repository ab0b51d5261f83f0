package org.crlm.cds.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.crlm.cds.authoring.RuleTestCase;
import org.crlm.cds.authoring.RuleTestRunner;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.support.RepositoryRules;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case in cql/tests through the production evaluator, without a server: exactly the
 * expected rules fire, none fails, and the card facts hold the expected text. The same cases
 * run over HTTP in {@link RuleScenarioIT}.
 */
class RuleScenarioTest {

    private final List<RuleTestCase> scenarios = RuleTestCase.all();
    private final RuleTestRunner runner =
            new RuleTestRunner(new DecisionEvaluator(new RuleEngine()), new ServiceCatalog());

    @Test
    void theMatrixCoversEveryRuleFiringAndNotOnEveryHook() {
        RuleSet rules = RepositoryRules.get();
        List<String> ruleIds = new ServiceCatalog()
                .services(rules).stream()
                        .flatMap(s -> s.rules().stream())
                        .map(r -> r.ruleId())
                        .distinct()
                        .toList();
        assertThat(ruleIds).isNotEmpty();
        for (String rule : ruleIds) {
            assertThat(scenarios).as(rule + " fires somewhere").anyMatch(s -> s.expectedRules()
                    .contains(rule));
            assertThat(scenarios).as(rule + " stays silent somewhere").anyMatch(s -> !s.expectedRules()
                    .contains(rule));
        }
        for (String hook : new ServiceCatalog()
                .services(rules).stream().map(s -> s.hook()).distinct().toList()) {
            assertThat(scenarios).as("cases for " + hook).anyMatch(s -> s.hook().equals(hook));
        }
    }

    /**
     * Time moves on: each case with its dates moved to within a month before today, evaluated at
     * the current time (as a CDS Hooks call is), gives the same rules. Rules that look back from
     * now (the measurement window) would otherwise drift.
     */
    @TestFactory
    Stream<DynamicTest> everyScenarioGivesTheSameRulesOnALaterDay() {
        java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
        return scenarios.stream()
                .filter(s -> s.evaluationDate() != null)
                .map(s -> DynamicTest.dynamicTest(s.name(), () -> {
                    RuleTestCase later = s.relativeTo(today);
                    assertThat(later.evaluationDate().toLocalDate()).isBetween(today.minusMonths(1), today);
                    RuleTestCase atTheCurrentTime = new RuleTestCase(
                            later.file(),
                            later.title(),
                            later.hook(),
                            later.patientId(),
                            later.record(),
                            later.draftOrders(),
                            later.selections(),
                            later.expectedRules(),
                            later.expectedFacts(),
                            null);
                    RuleTestRunner.Outcome outcome = runner.run(RepositoryRules.get(), atTheCurrentTime);
                    assertThat(outcome.failures()).as("rules that failed").isEmpty();
                    assertThat(outcome.fired()).as(s.name()).isEqualTo(new TreeSet<>(s.expectedRules()));
                }));
    }

    @TestFactory
    Stream<DynamicTest> everyScenarioThroughTheEvaluator() {
        return scenarios.stream()
                .map(s -> DynamicTest.dynamicTest(s.name(), () -> {
                    RuleTestRunner.Outcome outcome = runner.run(RepositoryRules.get(), s);
                    assertThat(outcome.failures()).as("rules that failed").isEmpty();
                    assertThat(outcome.factProblems()).as("card facts").isEmpty();
                    assertThat(outcome.fired()).as(s.name()).isEqualTo(new TreeSet<>(s.expectedRules()));
                }));
    }
}
