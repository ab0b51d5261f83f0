package org.crlm.cds.knowledge;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.crlm.cds.rules.EvaluationSession;
import org.crlm.cds.rules.ExpressionFailure;
import org.crlm.cds.rules.ExpressionRef;
import org.crlm.cds.rules.ExpressionResult;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleSet;
import org.springframework.stereotype.Component;

/**
 * Applies a service's rules to one patient's data. The only place that decides which rules
 * fire: hook calls, the rule-check CLI, the scenario tests and the console all come here, so
 * what informaticians test is what production runs.
 */
@Component
public final class DecisionEvaluator {

    /** Shown in place of the facts of a fired rule whose facts expression failed. */
    public static final String FACTS_UNAVAILABLE = "(the patient details for this card could not be computed)";

    private final RuleEngine engine;

    public DecisionEvaluator(RuleEngine engine) {
        this.engine = engine;
    }

    /** The CQL parameter carrying the ids of the orders an order hook selected or is signing. */
    public static final String HOOK_ORDER_IDS = "Hook Order Ids";

    /** Decides outside an order hook (patient-view, the console without orders). */
    public Decision decide(RuleSet rules, ServiceDefinition service, PatientData data) {
        return decide(rules, service, data, null);
    }

    /**
     * @param hookOrderIds order-select: the selected orders; order-sign: the orders being signed ("Type/id");
     *                     null for other hooks. The service's CQL applicability condition decides whether they
     *                     concern it; they do not change what counts as planned.
     */
    public Decision decide(RuleSet rules, ServiceDefinition service, PatientData data, List<String> hookOrderIds) {
        return decide(open(rules, data, hookOrderIds), service);
    }

    /**
     * Decides on an open session, so a caller can go on to evaluate other expressions on the same cache.
     * The decision's expressions run together on one evaluation thread.
     */
    public Decision decide(EvaluationSession session, ServiceDefinition service) {
        return session.run(() -> decideOn(session, service));
    }

    private Decision decideOn(EvaluationSession session, ServiceDefinition service) {
        if (service.applicability() != null) {
            ExpressionResult applies = session.evaluate(service.applicability());
            // A failed applicability check runs the rules: a failure must never silence the advice.
            if (!applies.failed() && !applies.isTrue()) {
                List<Decision.RuleOutcome> skipped = new ArrayList<>();
                for (RuleDefinition rule : service.rules()) {
                    skipped.add(new Decision.RuleOutcome(
                            rule,
                            Decision.Status.NOT_APPLICABLE,
                            null,
                            null,
                            service.applicability().libraryCanonical(),
                            applies.libraryVersion()));
                }
                return new Decision(service, List.copyOf(skipped));
            }
        }
        List<Decision.RuleOutcome> outcomes = new ArrayList<>();
        for (RuleDefinition rule : service.rules()) {
            outcomes.add(apply(session, rule));
        }
        return new Decision(service, List.copyOf(outcomes), plannedLesions(session, outcomes));
    }

    /** The expression, in a fired rule's library, that lists the lesions planned for ablation. */
    public static final String PLANNED_LESIONS = "Planned Lesions";

    private static List<String> plannedLesions(EvaluationSession session, List<Decision.RuleOutcome> outcomes) {
        for (Decision.RuleOutcome outcome : outcomes) {
            if (!outcome.fired() || outcome.libraryUrl() == null) {
                continue;
            }
            boolean defined = session.rules()
                    .library(outcome.libraryUrl())
                    .map(l -> l.expressionNames().contains(PLANNED_LESIONS))
                    .orElse(false);
            if (defined) {
                ExpressionResult lesions = session.evaluate(new ExpressionRef(outcome.libraryUrl(), PLANNED_LESIONS));
                List<String> keys = new ArrayList<>();
                if (!lesions.failed() && lesions.value() instanceof Iterable<?> items) {
                    items.forEach(item -> {
                        if (item != null) {
                            keys.add(item.toString());
                        }
                    });
                }
                return List.copyOf(keys);
            }
        }
        return List.of();
    }

    public EvaluationSession open(RuleSet rules, PatientData data) {
        return open(rules, data, null);
    }

    public EvaluationSession open(RuleSet rules, PatientData data, List<String> hookOrderIds) {
        return engine.open(
                rules, data, hookOrderIds == null ? Map.of() : Map.of(HOOK_ORDER_IDS, List.copyOf(hookOrderIds)));
    }

    private static Decision.RuleOutcome apply(EvaluationSession session, RuleDefinition rule) {
        if (rule.condition() == null) {
            // A condition that is not CQL cannot be evaluated here: a failed rule, never a silent one.
            return new Decision.RuleOutcome(
                    rule,
                    Decision.Status.FAILED,
                    null,
                    new ExpressionFailure(
                            null,
                            null,
                            null,
                            null,
                            "NoCqlCondition",
                            "Rule " + rule.ruleId() + " has no CQL applicability condition"),
                    null,
                    null);
        }
        ExpressionResult applies = session.evaluate(rule.condition());
        String library = rule.condition().libraryCanonical();
        if (applies.failed()) {
            return new Decision.RuleOutcome(
                    rule, Decision.Status.FAILED, null, applies.failure(), library, applies.libraryVersion());
        }
        if (!applies.isTrue()) {
            return new Decision.RuleOutcome(
                    rule, Decision.Status.NOT_FIRED, null, null, library, applies.libraryVersion());
        }
        String facts = null;
        ExpressionFailure factsFailure = null;
        if (rule.facts() != null) {
            ExpressionResult factsResult = session.evaluate(rule.facts());
            if (factsResult.failed()) {
                facts = FACTS_UNAVAILABLE;
                factsFailure = factsResult.failure();
            } else if (factsResult.value() != null) {
                facts = factsResult.value().toString();
            }
        }
        String scopeNote = null;
        if (rule.scopeNote() != null) {
            ExpressionResult note = session.evaluate(rule.scopeNote());
            if (note.failed()) {
                factsFailure = factsFailure != null ? factsFailure : note.failure();
            } else if (note.value() != null) {
                scopeNote = note.value().toString();
            }
        }
        List<ResourceRef> resources = List.of();
        if (rule.resources() != null) {
            ExpressionResult read = session.evaluate(rule.resources());
            if (read.failed()) {
                factsFailure = factsFailure != null ? factsFailure : read.failure();
            } else {
                resources = resourceRefs(read.value());
            }
        }
        List<Decision.Suggested> suggestions = new ArrayList<>();
        for (SuggestionDefinition suggestion : rule.suggestions()) {
            ExpressionResult offered = holds(session, suggestion.condition());
            if (offered.failed()) {
                factsFailure = factsFailure != null ? factsFailure : offered.failure();
                continue;
            }
            if (!offered.isTrue()) {
                continue;
            }
            List<String> orders = new ArrayList<>();
            for (SuggestionDefinition.Order order : suggestion.orders()) {
                ExpressionResult included = holds(session, order.condition());
                if (included.failed()) {
                    factsFailure = factsFailure != null ? factsFailure : included.failure();
                } else if (included.isTrue()) {
                    orders.add(order.activityDefinition());
                }
            }
            if (!orders.isEmpty()) {
                suggestions.add(new Decision.Suggested(suggestion.label(), List.copyOf(orders)));
            }
        }
        return new Decision.RuleOutcome(
                rule,
                Decision.Status.FIRED,
                facts,
                factsFailure,
                library,
                applies.libraryVersion(),
                scopeNote,
                resources,
                List.copyOf(suggestions));
    }

    /** A condition's result; no condition holds. */
    private static ExpressionResult holds(EvaluationSession session, org.crlm.cds.rules.ExpressionRef condition) {
        return condition == null ? new ExpressionResult(null, Boolean.TRUE, null, null) : session.evaluate(condition);
    }

    /** CQL tuples {type, id, version} → references, each once, in order. */
    private static List<ResourceRef> resourceRefs(Object value) {
        java.util.LinkedHashSet<ResourceRef> refs = new java.util.LinkedHashSet<>();
        if (value instanceof Iterable<?> items) {
            for (Object item : items) {
                if (item instanceof org.opencds.cqf.cql.engine.runtime.Tuple tuple) {
                    Object type = tuple.getElements().get("type");
                    Object id = tuple.getElements().get("id");
                    Object version = tuple.getElements().get("version");
                    if (type != null && id != null) {
                        refs.add(new ResourceRef(
                                type.toString(), id.toString(), version == null ? null : version.toString()));
                    }
                }
            }
        }
        return List.copyOf(refs);
    }
}
