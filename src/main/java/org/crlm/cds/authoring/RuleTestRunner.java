package org.crlm.cds.authoring;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.knowledge.Decision;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.ExpressionFailure;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.instance.model.api.IBaseResource;

/** Runs a rule test case through the production evaluator: the rules of its service on its record plus draft orders. */
public final class RuleTestRunner {

    /** What a case gave. */
    public record Outcome(
            RuleTestCase testCase,
            Decision decision,
            Set<String> fired,
            Map<String, String> failures,
            List<String> factProblems) {

        public boolean passed() {
            return failures.isEmpty()
                    && factProblems.isEmpty()
                    && fired.equals(new TreeSet<>(testCase.expectedRules()));
        }
    }

    private final DecisionEvaluator evaluator;
    private final ServiceCatalog catalog;

    public RuleTestRunner(DecisionEvaluator evaluator, ServiceCatalog catalog) {
        this.evaluator = evaluator;
        this.catalog = catalog;
    }

    public Outcome run(RuleSet rules, RuleTestCase testCase) {
        ServiceDefinition service = catalog.service(rules, testCase.serviceId())
                .orElseThrow(
                        () -> new IllegalArgumentException(testCase.file() + ": no service " + testCase.serviceId()));
        List<IBaseResource> data = new ArrayList<>(testCase.recordResources());
        data.addAll(testCase.draftOrderResources());
        Decision decision = evaluator.decide(
                rules,
                service,
                new PatientData(testCase.patientId(), data, testCase.evaluationDate()),
                testCase.hookOrderIds());
        Set<String> fired = new TreeSet<>();
        Map<String, String> failures = new LinkedHashMap<>();
        List<String> factProblems = new ArrayList<>();
        for (Decision.RuleOutcome rule : decision.rules()) {
            String id = rule.rule().ruleId();
            if (rule.status() == Decision.Status.FAILED) {
                failures.put(id, describe(rule.failure()));
                continue;
            }
            if (!rule.fired()) {
                continue;
            }
            fired.add(id);
            if (rule.failure() != null) {
                factProblems.add(id + " facts failed: " + describe(rule.failure()));
                continue;
            }
            for (String part : testCase.expectedFacts().getOrDefault(id, List.of())) {
                if (rule.facts() == null || !rule.facts().contains(part)) {
                    factProblems.add(id + " facts lack \"" + part + "\" (were: " + rule.facts() + ")");
                }
            }
        }
        return new Outcome(testCase, decision, fired, failures, factProblems);
    }

    private static String describe(ExpressionFailure f) {
        return f.errorType() + " at " + f.library() + " line " + f.line() + ": " + f.message();
    }
}
