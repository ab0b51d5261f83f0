package org.crlm.cds.smart;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.crlm.cds.knowledge.Decision;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.RuleDefinition;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.EvaluationSession;
import org.crlm.cds.rules.ExpressionRef;
import org.crlm.cds.rules.ExpressionResult;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.opencds.cqf.cql.engine.runtime.Tuple;
import org.springframework.stereotype.Component;

/**
 * What the Ablation planning view shows for one patient's record: the service's decision (fired
 * rules with their level of evidence and sources) and the display expressions of the rule library
 * (lesions, measurements, gene results and readings, what could not be assessed), all evaluated by
 * the same CQL on the same data. The view draws; it decides nothing.
 */
@Component
public class PlanningView {

    /** The rule library's display expressions (CRLMAblationRules, section "Ablation planning view"). */
    static final String LESIONS = "Lesion Overview";

    static final String MEASUREMENTS = "Lesion Measurement History";
    static final String GENE_RESULTS = "Gene Result History";
    static final String GENE_READINGS = "Gene Readings";
    static final String GAPS = "Assessment Gaps";
    static final String THRESHOLD = "Large Lesion Threshold mm";

    /** A rule of the decision, with what its card quotes about the evidence. */
    public record RuleView(
            String ruleId,
            String display,
            String status,
            String summary,
            String facts,
            String levelOfEvidence,
            List<Source> sources) {}

    public record Source(String label, String citation, String url) {}

    /** The whole view: each list as the CQL returns it (one map per tuple). */
    public record View(
            String patientId,
            String service,
            String libraryVersion,
            Object thresholdMm,
            List<RuleView> rules,
            List<String> plannedLesions,
            Object lesions,
            Object measurements,
            Object geneResults,
            Object geneReadings,
            Object gaps,
            List<String> failures) {}

    private final DecisionEvaluator evaluator;

    public PlanningView(DecisionEvaluator evaluator) {
        this.evaluator = evaluator;
    }

    public View evaluate(RuleSet rules, ServiceDefinition service, String patientId, List<IBaseResource> record) {
        EvaluationSession session = evaluator.open(rules, new PatientData(patientId, record));
        // The decision and the display expressions on one evaluation thread.
        return session.run(() -> view(session, rules, service, patientId, record));
    }

    private View view(
            EvaluationSession session,
            RuleSet rules,
            ServiceDefinition service,
            String patientId,
            List<IBaseResource> record) {
        Decision decision = evaluator.decide(session, service);
        List<RuleView> ruleViews = new ArrayList<>();
        for (Decision.RuleOutcome outcome : decision.rules()) {
            RuleDefinition rule = outcome.rule();
            List<Source> sources = new ArrayList<>();
            for (RelatedArtifact doc : rule.documentation()) {
                sources.add(new Source(
                        doc.getLabel(), doc.hasDisplay() ? doc.getDisplay() : doc.getCitation(), doc.getUrl()));
            }
            ruleViews.add(new RuleView(
                    rule.ruleId(),
                    rule.ruleDisplay(),
                    outcome.status().name(),
                    rule.summary(),
                    outcome.facts(),
                    rule.evidence(),
                    sources));
        }
        String library = displayLibrary(rules, service).orElse(null);
        List<String> failures = new ArrayList<>();
        Map<String, Object> values = new LinkedHashMap<>();
        String version = null;
        for (String name : List.of(LESIONS, MEASUREMENTS, GENE_RESULTS, GENE_READINGS, GAPS, THRESHOLD)) {
            if (library == null) {
                failures.add(name + ": no rule library of the service defines it");
                continue;
            }
            ExpressionResult result = session.evaluate(new ExpressionRef(library, name));
            if (result.failed()) {
                failures.add(name + ": " + result.failure().errorType());
            } else {
                values.put(name, plain(result.value()));
                version = result.libraryVersion();
            }
        }
        return new View(
                patientId,
                service.id(),
                version,
                values.get(THRESHOLD),
                ruleViews,
                decision.plannedLesions(),
                withMethods(values.get(LESIONS), null),
                values.get(MEASUREMENTS),
                withMethods(values.get(GENE_RESULTS), record),
                values.get(GENE_READINGS),
                values.get(GAPS),
                failures);
    }

    /** The library of the service's rules that defines the display expressions. */
    private static Optional<String> displayLibrary(RuleSet rules, ServiceDefinition service) {
        return service.rules().stream()
                .filter(r -> r.condition() != null)
                .map(r -> r.condition().libraryCanonical())
                .distinct()
                .filter(canonical -> rules.library(canonical)
                        .map(l -> l.expressionNames().contains(LESIONS))
                        .orElse(false))
                .findFirst();
    }

    /** Adds each gene result's method (as the laboratory wrote it) to its row: display only. */
    @SuppressWarnings("unchecked")
    private static Object withMethods(Object rows, List<IBaseResource> record) {
        if (record == null || !(rows instanceof List<?> list)) {
            return rows;
        }
        Map<String, Observation> observations = new LinkedHashMap<>();
        for (IBaseResource r : record) {
            if (r instanceof Observation o) {
                observations.put(o.getIdElement().getIdPart(), o);
            }
        }
        for (Object row : list) {
            if (row instanceof Map<?, ?> map) {
                Observation o = observations.get(String.valueOf(map.get("observation")));
                if (o != null && o.hasMethod()) {
                    String method = o.getMethod().hasText()
                            ? o.getMethod().getText()
                            : o.getMethod().getCodingFirstRep().getDisplay();
                    ((Map<String, Object>) map).put("method", method);
                }
            }
        }
        return rows;
    }

    /** CQL values as JSON-ready values: tuples as maps, lists, decimals, booleans, text. */
    static Object plain(Object value) {
        if (value == null || value instanceof String || value instanceof Boolean || value instanceof Integer) {
            return value;
        }
        if (value instanceof BigDecimal d) {
            return d.stripTrailingZeros().scale() < 0 ? d.setScale(0) : d.stripTrailingZeros();
        }
        if (value instanceof Tuple tuple) {
            Map<String, Object> map = new LinkedHashMap<>();
            tuple.getElements().forEach((k, v) -> map.put(k, plain(v)));
            return map;
        }
        if (value instanceof Iterable<?> items) {
            List<Object> list = new ArrayList<>();
            items.forEach(item -> list.add(plain(item)));
            return list;
        }
        if (value instanceof org.opencds.cqf.cql.engine.runtime.DateTime dt) {
            return dt.getDateTime().toString();
        }
        if (value instanceof org.opencds.cqf.cql.engine.runtime.Date date) {
            return date.toString();
        }
        if (value instanceof IPrimitiveType<?> primitive) {
            return primitive.getValueAsString();
        }
        if (value instanceof IBaseResource resource) {
            return resource.fhirType() + "/" + resource.getIdElement().getIdPart();
        }
        return value.toString();
    }
}
