package org.crlm.cds.authoring;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.crlm.cds.knowledge.Decision;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.EvaluationSession;
import org.crlm.cds.rules.ExpressionRef;
import org.crlm.cds.rules.ExpressionResult;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleLibrary;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.opencds.cqf.cql.engine.runtime.Tuple;
import org.springframework.stereotype.Component;

/** The "why" for informaticians: the value of every expression of a rule library for one patient. */
@Component
public class RuleExplainer {

    /** One expression's value as text, or its error with location. */
    public record ExpressionValue(
            String library, String name, String value, String type, String error, Integer line, Integer column) {}

    /** A rule's outcome as the decision gave it. */
    public record RuleStatus(String ruleId, String status, String facts, String error) {}

    /** The decision for the service and the value of every expression of its libraries. */
    public record Explanation(List<RuleStatus> rules, List<ExpressionValue> expressions) {}

    private final DecisionEvaluator evaluator;

    public RuleExplainer(DecisionEvaluator evaluator) {
        this.evaluator = evaluator;
    }

    public Explanation explain(RuleSet rules, ServiceDefinition service, String patientId, List<IBaseResource> data) {
        EvaluationSession session = evaluator.open(rules, new PatientData(patientId, data));
        // The decision and every expression's value on one evaluation thread.
        return session.run(() -> explain(session, rules, service));
    }

    private Explanation explain(EvaluationSession session, RuleSet rules, ServiceDefinition service) {
        Decision decision = evaluator.decide(session, service);
        List<RuleStatus> statuses = new ArrayList<>();
        Set<String> libraryCanonicals = new LinkedHashSet<>();
        for (Decision.RuleOutcome rule : decision.rules()) {
            statuses.add(new RuleStatus(
                    rule.rule().ruleId(),
                    rule.status().name(),
                    rule.facts(),
                    rule.failure() == null
                            ? null
                            : rule.failure().errorType() + ": " + rule.failure().message()));
            if (rule.libraryUrl() != null) {
                libraryCanonicals.add(rule.libraryUrl());
            }
        }
        List<ExpressionValue> values = new ArrayList<>();
        for (String canonical : libraryCanonicals) {
            RuleLibrary library = rules.library(canonical).orElse(null);
            if (library == null) {
                continue;
            }
            for (String name : library.expressionNames()) {
                if (name.equals("Patient")) {
                    continue;
                }
                ExpressionResult result = session.evaluate(new ExpressionRef(canonical, name));
                if (result.failed()) {
                    values.add(new ExpressionValue(
                            library.name(),
                            name,
                            null,
                            null,
                            result.failure().errorType() + ": "
                                    + result.failure().message(),
                            result.failure().line(),
                            result.failure().column()));
                } else {
                    Object value = result.value();
                    values.add(new ExpressionValue(
                            library.name(),
                            name,
                            render(value, 0),
                            value == null ? "Null" : value.getClass().getSimpleName(),
                            null,
                            null,
                            null));
                }
            }
        }
        return new Explanation(statuses, values);
    }

    static String render(Object value, int depth) {
        if (value == null) {
            return "null";
        }
        if (value instanceof IBaseResource r) {
            return r.fhirType() + "/" + r.getIdElement().getIdPart();
        }
        if (value instanceof Iterable<?> list) {
            List<String> items = new ArrayList<>();
            int n = 0;
            for (Object item : list) {
                if (n++ < 10) {
                    items.add(depth > 2 ? "…" : render(item, depth + 1));
                }
            }
            return "[" + String.join(", ", items) + (n > 10 ? ", … (" + n + " items)" : "") + "]";
        }
        if (value instanceof Tuple tuple) {
            List<String> parts = new ArrayList<>();
            tuple.getElements().forEach((k, v) -> parts.add(k + ": " + (depth > 2 ? "…" : render(v, depth + 1))));
            return "{" + String.join(", ", parts) + "}";
        }
        if (value instanceof org.hl7.fhir.instance.model.api.IPrimitiveType<?> primitive) {
            return String.valueOf(primitive.getValueAsString());
        }
        return value.toString();
    }
}
