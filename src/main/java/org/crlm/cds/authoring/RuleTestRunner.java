package org.crlm.cds.authoring;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.cdshooks.CdsService;
import org.crlm.cds.cdshooks.RuleAction;
import org.crlm.cds.cdshooks.ServiceCatalog;
import org.crlm.cds.rules.EvaluationSession;
import org.crlm.cds.rules.ExpressionResult;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.instance.model.api.IBaseResource;

/** Runs a rule test case through the evaluator: the rules of its service on its record plus draft orders. */
public final class RuleTestRunner {

    /** What a case gave. */
    public record Outcome(RuleTestCase testCase, Set<String> fired, Map<String, String> failures, List<String> factProblems) {

        public boolean passed() {
            return failures.isEmpty() && factProblems.isEmpty() && fired.equals(new TreeSet<>(testCase.expectedRules()));
        }
    }

    private final RuleEngine engine;
    private final ServiceCatalog catalog;

    public RuleTestRunner(RuleEngine engine, ServiceCatalog catalog) {
        this.engine = engine;
        this.catalog = catalog;
    }

    public Outcome run(RuleSet rules, RuleTestCase testCase) {
        CdsService service = catalog.service(rules, testCase.serviceId()).orElseThrow(() ->
                new IllegalArgumentException(testCase.file() + ": no service " + testCase.serviceId()));
        List<IBaseResource> data = new ArrayList<>(testCase.recordResources());
        data.addAll(testCase.draftOrderResources());
        EvaluationSession session = engine.open(rules, new PatientData(testCase.patientId(), data), Map.of());
        Set<String> fired = new TreeSet<>();
        Map<String, String> failures = new LinkedHashMap<>();
        List<String> factProblems = new ArrayList<>();
        for (RuleAction rule : service.rules()) {
            ExpressionResult applies = session.evaluate(rule.condition());
            if (applies.failed()) {
                failures.put(rule.ruleId(), applies.failure().errorType() + " at " + applies.failure().library()
                        + " line " + applies.failure().line() + ": " + applies.failure().message());
                continue;
            }
            if (!applies.isTrue()) {
                continue;
            }
            fired.add(rule.ruleId());
            List<String> expectedFacts = testCase.expectedFacts().getOrDefault(rule.ruleId(), List.of());
            if (!expectedFacts.isEmpty() && rule.facts() != null) {
                String facts = String.valueOf(session.evaluate(rule.facts()).value());
                for (String part : expectedFacts) {
                    if (!facts.contains(part)) {
                        factProblems.add(rule.ruleId() + " facts lack \"" + part + "\" (were: " + facts + ")");
                    }
                }
            }
        }
        return new Outcome(testCase, fired, failures, factProblems);
    }
}
