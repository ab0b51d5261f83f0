package org.crlm.cds.knowledge;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.crlm.cds.rules.ExpressionRef;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.rules.RuleSetBuilder;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Expression;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.PlanDefinition.PlanDefinitionActionComponent;
import org.hl7.fhir.r4.model.TriggerDefinition;
import org.springframework.stereotype.Component;

/**
 * The CDS services of a rule set. A PlanDefinition is a service when one of its top-level
 * actions has a named-event trigger (the hook); the service id is the PlanDefinition id.
 * Rules are its sub-actions, inline or by {@code definitionCanonical} to a rule PlanDefinition.
 * Computed once per rule-set generation.
 */
@Component
public class ServiceCatalog {

    public static final String PREFETCH_EXTENSION = "http://crlm-cds.org/fhir/StructureDefinition/cds-hooks-prefetch";
    public static final String RULE_CODE_SYSTEM = "http://crlm-cds.org/fhir/CodeSystem/crlm-rule";

    private record Snapshot(long generation, Map<String, ServiceDefinition> services) {}

    private volatile Snapshot snapshot = new Snapshot(-1, Map.of());

    public List<ServiceDefinition> services(RuleSet rules) {
        return new ArrayList<>(of(rules).values());
    }

    public Optional<ServiceDefinition> service(RuleSet rules, String id) {
        return Optional.ofNullable(of(rules).get(id));
    }

    private Map<String, ServiceDefinition> of(RuleSet rules) {
        Snapshot current = snapshot;
        if (current.generation() != rules.generation()) {
            current = new Snapshot(rules.generation(), build(rules));
            snapshot = current;
        }
        return current.services();
    }

    private static Map<String, ServiceDefinition> build(RuleSet rules) {
        Map<String, ServiceDefinition> services = new LinkedHashMap<>();
        List<PlanDefinition> plans = new ArrayList<>(rules.planDefinitions());
        plans.sort(java.util.Comparator.comparing(p -> p.getIdElement().getIdPart()));
        for (PlanDefinition plan : plans) {
            if (plan.getStatus() == org.hl7.fhir.r4.model.Enumerations.PublicationStatus.RETIRED) {
                continue;
            }
            for (PlanDefinitionActionComponent top : plan.getAction()) {
                Optional<String> hook = hookOf(top);
                if (hook.isEmpty()) {
                    continue;
                }
                String id = plan.getIdElement().getIdPart();
                List<RuleDefinition> ruleActions = new ArrayList<>();
                for (PlanDefinitionActionComponent child : top.getAction()) {
                    collectRules(child, plan, rules, ruleActions);
                }
                String defaultLibrary =
                        plan.hasLibrary() ? plan.getLibrary().get(0).getValue() : null;
                ExpressionRef applicability = null;
                for (PlanDefinition.PlanDefinitionActionConditionComponent c : top.getCondition()) {
                    if (c.getKind() == PlanDefinition.ActionConditionKind.APPLICABILITY) {
                        applicability = ref(c.getExpression(), defaultLibrary);
                    }
                }
                services.put(
                        id,
                        new ServiceDefinition(
                                id,
                                hook.get(),
                                plan.getTitle(),
                                plan.getDescription(),
                                plan.getUsage(),
                                prefetch(plan),
                                plan.getUrl() + "|" + plan.getVersion(),
                                List.copyOf(ruleActions),
                                applicability));
            }
        }
        return services;
    }

    private static Optional<String> hookOf(PlanDefinitionActionComponent action) {
        for (TriggerDefinition trigger : action.getTrigger()) {
            if (trigger.getType() == TriggerDefinition.TriggerType.NAMEDEVENT && trigger.hasName()) {
                return Optional.of(trigger.getName());
            }
        }
        return Optional.empty();
    }

    private static Map<String, String> prefetch(PlanDefinition plan) {
        Map<String, String> prefetch = new LinkedHashMap<>();
        for (Extension ext : plan.getExtensionsByUrl(PREFETCH_EXTENSION)) {
            Extension key = ext.getExtensionByUrl("key");
            Extension query = ext.getExtensionByUrl("query");
            if (key != null && query != null) {
                prefetch.put(key.getValue().primitiveValue(), query.getValue().primitiveValue());
            }
        }
        return prefetch;
    }

    /** A sub-action is a rule when it has a condition; definitionCanonical to a PlanDefinition brings that plan's rules in. */
    private static void collectRules(
            PlanDefinitionActionComponent action, PlanDefinition owner, RuleSet rules, List<RuleDefinition> into) {
        if (action.hasDefinitionCanonicalType() && !action.hasCondition()) {
            Optional<PlanDefinition> target =
                    rules.planDefinition(action.getDefinitionCanonicalType().getValue());
            if (target.isPresent()) {
                for (PlanDefinitionActionComponent ruleAction : target.get().getAction()) {
                    collectRules(ruleAction, target.get(), rules, into);
                }
                return;
            }
        }
        if (action.hasCondition()) {
            into.add(toRule(action, owner, rules));
        }
        for (PlanDefinitionActionComponent child : action.getAction()) {
            // A rule's sub-action with a definition is one of its card's suggestions, not a rule.
            if (!(action.hasCondition() && child.hasDefinitionCanonicalType())) {
                collectRules(child, owner, rules, into);
            }
        }
    }

    private static RuleDefinition toRule(PlanDefinitionActionComponent action, PlanDefinition owner, RuleSet rules) {
        String defaultLibrary = owner.hasLibrary() ? owner.getLibrary().get(0).getValue() : null;
        Coding ruleCode = action.getCode().stream()
                .flatMap(c -> c.getCoding().stream())
                .filter(c -> RULE_CODE_SYSTEM.equals(c.getSystem()))
                .findFirst()
                .orElseGet(() -> new Coding(RULE_CODE_SYSTEM, action.getId(), action.getTitle()));
        ExpressionRef condition = null;
        for (PlanDefinition.PlanDefinitionActionConditionComponent c : action.getCondition()) {
            if (c.getKind() == PlanDefinition.ActionConditionKind.APPLICABILITY) {
                condition = ref(c.getExpression(), defaultLibrary);
            }
        }
        ExpressionRef facts = null;
        ExpressionRef scopeNote = null;
        ExpressionRef resources = null;
        for (PlanDefinition.PlanDefinitionActionDynamicValueComponent dv : action.getDynamicValue()) {
            if ("action.description".equals(dv.getPath()) || "description".equals(dv.getPath())) {
                facts = ref(dv.getExpression(), defaultLibrary);
            } else if ("action.documentation".equals(dv.getPath())) {
                scopeNote = ref(dv.getExpression(), defaultLibrary);
            } else if ("action.input".equals(dv.getPath())) {
                resources = ref(dv.getExpression(), defaultLibrary);
            }
        }
        List<SuggestionDefinition> suggestions = new ArrayList<>();
        if (action.hasDefinitionCanonicalType()) {
            // A definition on the rule action itself: offered whenever the rule fires.
            suggestion(action.getDefinitionCanonicalType().getValue(), null, null, defaultLibrary, rules)
                    .ifPresent(suggestions::add);
        }
        for (PlanDefinitionActionComponent child : action.getAction()) {
            if (child.hasDefinitionCanonicalType()) {
                suggestion(
                                child.getDefinitionCanonicalType().getValue(),
                                child.hasTitle() ? child.getTitle() : null,
                                applicability(child, defaultLibrary),
                                defaultLibrary,
                                rules)
                        .ifPresent(suggestions::add);
            }
        }
        String priority = action.hasPriority() ? action.getPriority().toCode() : "routine";
        return new RuleDefinition(
                ruleCode.getCode(),
                ruleCode.getSystem(),
                ruleCode.getDisplay(),
                action.getTitle(),
                action.getDescription(),
                priority,
                action.getDocumentation(),
                condition,
                facts,
                List.copyOf(suggestions),
                owner.getUrl() + "|" + owner.getVersion(),
                evidenceParagraphs(action),
                scopeNote,
                overrideReasons(action),
                resources);
    }

    /**
     * The suggestion of a definition: an ActivityDefinition is one order; an order-set
     * PlanDefinition is one order per action with an ActivityDefinition, each under that action's
     * condition (CQL of the order set's library). Empty when the definition is unknown.
     */
    private static Optional<SuggestionDefinition> suggestion(
            String definition, String title, ExpressionRef condition, String defaultLibrary, RuleSet rules) {
        Optional<org.hl7.fhir.r4.model.ActivityDefinition> single = rules.activityDefinition(definition);
        if (single.isPresent()) {
            return Optional.of(new SuggestionDefinition(
                    title != null ? title : single.get().getTitle(),
                    condition,
                    List.of(new SuggestionDefinition.Order(definition, null))));
        }
        Optional<PlanDefinition> orderSet = rules.planDefinition(definition);
        if (orderSet.isEmpty()) {
            return Optional.empty();
        }
        String setLibrary =
                orderSet.get().hasLibrary() ? orderSet.get().getLibrary().get(0).getValue() : defaultLibrary;
        List<SuggestionDefinition.Order> orders = new ArrayList<>();
        for (PlanDefinitionActionComponent action : orderSet.get().getAction()) {
            if (action.hasDefinitionCanonicalType()) {
                orders.add(new SuggestionDefinition.Order(
                        action.getDefinitionCanonicalType().getValue(), applicability(action, setLibrary)));
            }
        }
        return orders.isEmpty()
                ? Optional.empty()
                : Optional.of(new SuggestionDefinition(
                        title != null ? title : orderSet.get().getTitle(), condition, List.copyOf(orders)));
    }

    private static ExpressionRef applicability(PlanDefinitionActionComponent action, String defaultLibrary) {
        for (PlanDefinition.PlanDefinitionActionConditionComponent c : action.getCondition()) {
            if (c.getKind() == PlanDefinition.ActionConditionKind.APPLICABILITY) {
                ExpressionRef ref = ref(c.getExpression(), defaultLibrary);
                // A condition that is not CQL cannot hold here: it fails, so nothing is offered on it.
                return ref != null ? ref : new ExpressionRef(defaultLibrary, "(condition is not CQL)");
            }
        }
        return null;
    }

    private static List<Coding> overrideReasons(PlanDefinitionActionComponent action) {
        return action.getExtensionsByUrl(RuleDefinition.OVERRIDE_REASON_EXTENSION).stream()
                .filter(e -> e.getValue() instanceof Coding)
                .map(e -> ((Coding) e.getValue()).copy())
                .toList();
    }

    private static List<EvidenceParagraph> evidenceParagraphs(PlanDefinitionActionComponent action) {
        List<EvidenceParagraph> paragraphs = new ArrayList<>();
        for (Extension ext : action.getExtensionsByUrl(EvidenceParagraph.EXTENSION)) {
            paragraphs.add(new EvidenceParagraph(
                    part(ext, "key"),
                    part(ext, "source"),
                    part(ext, "endpoint"),
                    part(ext, "title"),
                    part(ext, "text")));
        }
        return List.copyOf(paragraphs);
    }

    private static String part(Extension ext, String url) {
        Extension part = ext.getExtensionByUrl(url);
        return part == null || part.getValue() == null ? null : part.getValue().primitiveValue();
    }

    private static ExpressionRef ref(Expression expression, String defaultLibrary) {
        if (expression == null || !RuleSetBuilder.CQL_IDENTIFIER.contains(expression.getLanguage())) {
            return null;
        }
        return new ExpressionRef(
                expression.hasReference() ? expression.getReference() : defaultLibrary, expression.getExpression());
    }
}
