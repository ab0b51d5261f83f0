package org.crlm.cds.cdshooks;

import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.RuleDefinition;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceIndicatorEnum;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCardJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCardSourceJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCodingJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseSuggestionActionJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseSuggestionJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.r4.model.ActivityDefinition;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.springframework.stereotype.Component;

/**
 * Turns a rule whose condition held into a CDS Hooks 2.0 card, purely from its PlanDefinition
 * action (CDS-on-FHIR mapping): title → summary; the patient's facts (the action's
 * dynamicValue) then description → detail; priority → indicator; documentation → source;
 * the rule code → source.topic; definitionCanonical ActivityDefinition → suggestion.
 */
@Component
public class CardFactory {

    static final int SUMMARY_MAX = 139;

    private final CdsHooksProperties properties;

    public CardFactory(CdsHooksProperties properties) {
        this.properties = properties;
    }

    public CdsServiceResponseCardJson card(RuleDefinition rule, String facts, String libraryUrl, String libraryVersion,
            RuleSet rules, HookContext context) {
        CdsServiceResponseCardJson card = new CdsServiceResponseCardJson();
        card.setUuid(UUID.randomUUID().toString());
        card.setSummary(summary(rule.summary()));
        card.setIndicator(indicator(rule.priority()));
        card.setDetail(detail(facts, rule.evidence()));
        card.setSource(source(rule));
        card.setOverrideReasons(overrideReasons(rules));
        if (rule.activityDefinition() != null) {
            rules.activityDefinition(rule.activityDefinition())
                    .ifPresent(ad -> {
                        card.addSuggestion(suggestion(ad, context));
                        card.setSelectionBehaviour("at-most-one");
                    });
        }
        card.setExtension(new RuleCardExtension(new RuleCardExtension.Provenance(
                rule.ruleId(), libraryUrl, libraryVersion, rule.planDefinition())));
        return card;
    }

    /** The info card that says some checks could not run: never a silent partial answer. */
    public CdsServiceResponseCardJson checksFailedCard(List<String> ruleIds, String libraryUrl, String libraryVersion) {
        CdsServiceResponseCardJson card = new CdsServiceResponseCardJson();
        card.setUuid(UUID.randomUUID().toString());
        card.setSummary("Some ablation checks could not run; the advice shown may be incomplete");
        card.setIndicator(CdsServiceIndicatorEnum.INFO);
        card.setDetail("These checks failed while evaluating this patient's record and gave no result: "
                + String.join(", ", ruleIds) + ". The other checks ran normally. The failure has been logged for the "
                + "rule authors; review the record and the rules before relying on the absence of a warning.");
        CdsServiceResponseCardSourceJson source = new CdsServiceResponseCardSourceJson();
        source.setLabel("CRLM ablation CDS");
        source.setTopic(coding(ServiceCatalog.RULE_CODE_SYSTEM, "RULE-ERROR", "Some checks could not run"));
        card.setSource(source);
        card.setExtension(new RuleCardExtension(new RuleCardExtension.Provenance("RULE-ERROR", libraryUrl, libraryVersion, null)));
        return card;
    }

    static String summary(String title) {
        String text = title == null ? "" : title.trim();
        return text.length() <= SUMMARY_MAX ? text : text.substring(0, SUMMARY_MAX - 1).trim() + "…";
    }

    static CdsServiceIndicatorEnum indicator(String priority) {
        return switch (priority == null ? "routine" : priority) {
            case "urgent" -> CdsServiceIndicatorEnum.WARNING;
            case "asap", "stat" -> CdsServiceIndicatorEnum.CRITICAL;
            default -> CdsServiceIndicatorEnum.INFO;
        };
    }

    private static String detail(String facts, String evidence) {
        StringBuilder detail = new StringBuilder();
        if (facts != null && !facts.isBlank()) {
            detail.append("**This patient:** ").append(facts.trim());
        }
        if (evidence != null && !evidence.isBlank()) {
            if (!detail.isEmpty()) {
                detail.append("\n\n");
            }
            detail.append(evidence.trim());
        }
        return detail.toString();
    }

    private static CdsServiceResponseCardSourceJson source(RuleDefinition rule) {
        CdsServiceResponseCardSourceJson source = new CdsServiceResponseCardSourceJson();
        Optional<RelatedArtifact> first = rule.documentation().stream().findFirst();
        source.setLabel(first.map(d -> d.hasDisplay() ? d.getDisplay() : d.getCitation()).orElse("CRLM ablation CDS"));
        first.filter(RelatedArtifact::hasUrl).ifPresent(d -> source.setUrl(d.getUrl()));
        source.setTopic(coding(rule.ruleSystem(), rule.ruleId(), rule.ruleDisplay()));
        return source;
    }

    private List<CdsServiceResponseCodingJson> overrideReasons(RuleSet rules) {
        List<CdsServiceResponseCodingJson> reasons = new ArrayList<>();
        rules.codeSystem(properties.overrideReasons()).ifPresent(cs -> {
            for (CodeSystem.ConceptDefinitionComponent concept : cs.getConcept()) {
                reasons.add(coding(cs.getUrl(), concept.getCode(), concept.getDisplay()));
            }
        });
        return reasons.isEmpty() ? null : reasons;
    }

    private static CdsServiceResponseSuggestionJson suggestion(ActivityDefinition ad, HookContext context) {
        ServiceRequest order = new ServiceRequest();
        order.setStatus(ServiceRequest.ServiceRequestStatus.DRAFT);
        order.setIntent(ad.hasIntent() ? ServiceRequest.ServiceRequestIntent.fromCode(ad.getIntent().toCode())
                : ServiceRequest.ServiceRequestIntent.ORDER);
        if (ad.hasPriority()) {
            order.setPriority(ServiceRequest.ServiceRequestPriority.fromCode(ad.getPriority().toCode()));
        }
        order.setCode(ad.getCode().copy());
        order.setSubject(new Reference("Patient/" + context.patientId()));
        if (context.userId().startsWith("Practitioner")) {
            order.setRequester(new Reference(context.userId()));
        }
        order.addInstantiatesCanonical(ad.getUrl() + (ad.hasVersion() ? "|" + ad.getVersion() : ""));

        CdsServiceResponseSuggestionActionJson action = new CdsServiceResponseSuggestionActionJson();
        action.setType("create");
        action.setDescription(ad.hasDescription() ? ad.getDescription() : ad.getTitle());
        action.setResource(order);
        CdsServiceResponseSuggestionJson suggestion = new CdsServiceResponseSuggestionJson();
        suggestion.setLabel(ad.getTitle());
        suggestion.setUuid(UUID.randomUUID().toString());
        suggestion.setRecommended(true);
        suggestion.addAction(action);
        return suggestion;
    }

    private static CdsServiceResponseCodingJson coding(String system, String code, String display) {
        CdsServiceResponseCodingJson coding = new CdsServiceResponseCodingJson();
        coding.setSystem(system);
        coding.setCode(code);
        coding.setDisplay(display);
        return coding;
    }
}
