package org.crlm.cds.cdshooks;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceIndicatorEnum;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCardJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCardSourceJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCodingJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseLinkJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseSuggestionActionJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseSuggestionJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.crlm.cds.knowledge.Decision;
import org.crlm.cds.knowledge.EvidenceParagraph;
import org.crlm.cds.knowledge.RuleDefinition;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.r4.model.ActivityDefinition;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.springframework.stereotype.Component;

/**
 * Turns a rule whose condition held into a CDS Hooks 2.0 card, purely from its PlanDefinition
 * action (CDS-on-FHIR mapping): title → summary; the patient's facts (the action's
 * dynamicValue), its evidence paragraphs, description (level of evidence, what to consider),
 * the scope note and the cited studies → detail (what is computed from the record escaped for markdown);
 * priority → indicator; documentation → source and links; the rule code → source.topic; the
 * suggestions CQL offered (definitionCanonical sub-actions) → suggestions.
 */
@Component
public class CardFactory {

    static final int SUMMARY_MAX = 139;

    private final CdsHooksProperties properties;

    public CardFactory(CdsHooksProperties properties) {
        this.properties = properties;
    }

    /**
     * The card of a fired rule.
     *
     * @param shownEvidence paragraph key → summary of the more urgent card of the same answer that already
     *                      shows it; such a paragraph is referred to, not repeated. This card's keys are added.
     * @param plannedLesions the lesions the decision read as planned for ablation, named in the planning view link
     */
    public CdsServiceResponseCardJson card(
            Decision.RuleOutcome outcome,
            RuleSet rules,
            HookContext context,
            Map<String, String> shownEvidence,
            List<String> plannedLesions) {
        RuleDefinition rule = outcome.rule();
        CdsServiceResponseCardJson card = new CdsServiceResponseCardJson();
        card.setUuid(UUID.randomUUID().toString());
        card.setSummary(summary(rule.summary()));
        card.setIndicator(indicator(rule.priority()));
        card.setDetail(detail(outcome, shownEvidence));
        for (EvidenceParagraph paragraph : rule.evidenceParagraphs()) {
            shownEvidence.putIfAbsent(paragraph.key(), card.getSummary());
        }
        card.setSource(source(rule));
        List<CdsServiceResponseLinkJson> links = links(rule);
        planningViewLink(outcome, plannedLesions).ifPresent(links::add);
        if (!links.isEmpty()) {
            card.setLinks(links);
        }
        card.setOverrideReasons(overrideReasons(rule, rules));
        for (Decision.Suggested suggested : outcome.suggestions()) {
            suggestion(suggested, rules, context).ifPresent(card::addSuggestion);
        }
        if (card.getSuggestions() != null && !card.getSuggestions().isEmpty()) {
            card.setSelectionBehaviour(card.getSuggestions().size() == 1 ? "at-most-one" : "any");
        }
        card.setExtension(new RuleCardExtension(
                new RuleCardExtension.Provenance(
                        rule.ruleId(), outcome.libraryUrl(), outcome.libraryVersion(), rule.planDefinition()),
                outcome.resources()));
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
        card.setExtension(new RuleCardExtension(
                new RuleCardExtension.Provenance("RULE-ERROR", libraryUrl, libraryVersion, null)));
        return card;
    }

    static String summary(String title) {
        String text = title == null ? "" : title.trim();
        return text.length() <= SUMMARY_MAX
                ? text
                : text.substring(0, SUMMARY_MAX - 1).trim() + "…";
    }

    static CdsServiceIndicatorEnum indicator(String priority) {
        return switch (priority == null ? "routine" : priority) {
            case "urgent" -> CdsServiceIndicatorEnum.WARNING;
            case "asap", "stat" -> CdsServiceIndicatorEnum.CRITICAL;
            default -> CdsServiceIndicatorEnum.INFO;
        };
    }

    /** This patient; the evidence (paragraphs shown on a more urgent card are referred to); level of evidence; scope; sources. */
    private static String detail(Decision.RuleOutcome outcome, Map<String, String> shownEvidence) {
        RuleDefinition rule = outcome.rule();
        List<String> sections = new ArrayList<>();
        if (outcome.facts() != null && !outcome.facts().isBlank()) {
            // Computed from the record: names, displays and notes are the patient's text, never markdown.
            sections.add(
                    "**This patient:** " + MarkdownText.escape(outcome.facts().trim()));
        }
        if (!rule.evidenceParagraphs().isEmpty()) {
            StringBuilder evidence = new StringBuilder("**Evidence.**");
            for (EvidenceParagraph paragraph : rule.evidenceParagraphs()) {
                String shownOn = shownEvidence.get(paragraph.key());
                evidence.append(' ')
                        .append(
                                shownOn == null
                                        ? paragraph.text().trim()
                                        : "*" + paragraph.title() + ": see the card above, “" + shownOn + "”.*");
            }
            sections.add(evidence.toString());
        }
        if (rule.evidence() != null && !rule.evidence().isBlank()) {
            sections.add(rule.evidence().trim());
        }
        if (outcome.scopeNote() != null && !outcome.scopeNote().isBlank()) {
            sections.add("**Scope.** " + MarkdownText.escape(outcome.scopeNote().trim()));
        }
        List<String> sources = new ArrayList<>();
        for (RelatedArtifact doc : rule.documentation()) {
            String name = doc.hasDisplay() ? doc.getDisplay() : doc.getCitation();
            String cited = doc.hasUrl() ? "[" + name + "](" + doc.getUrl() + ")" : name;
            sources.add(doc.hasLabel() ? doc.getLabel() + ": " + cited : cited);
        }
        if (!sources.isEmpty()) {
            sections.add("**Sources.** " + String.join("; ", sources) + ".");
        }
        return String.join("\n\n", sections);
    }

    /** Every cited study with an address, as a card link (a card quoting two studies names both). */
    private static List<CdsServiceResponseLinkJson> links(RuleDefinition rule) {
        List<CdsServiceResponseLinkJson> links = new ArrayList<>();
        for (RelatedArtifact doc : rule.documentation()) {
            if (doc.hasUrl()) {
                CdsServiceResponseLinkJson link = new CdsServiceResponseLinkJson();
                String name = doc.hasDisplay() ? doc.getDisplay() : doc.getCitation();
                link.setLabel(doc.hasLabel() ? doc.getLabel() + ": " + name : name);
                link.setUrl(doc.getUrl());
                link.setType("absolute");
                links.add(link);
            }
        }
        return links;
    }

    /**
     * The SMART app that shows this decision as charts (CDS Hooks 2.0 Link of type smart). The EHR
     * launches it with SMART App Launch and hands it {@code appContext}: the card's rule, the lesions
     * planned for ablation and the resources the decision read, as a JSON string.
     */
    private Optional<CdsServiceResponseLinkJson> planningViewLink(
            Decision.RuleOutcome outcome, List<String> plannedLesions) {
        String url = properties.planningViewUrl();
        if (url == null || url.isBlank()) {
            return Optional.empty();
        }
        Map<String, Object> appContext = new java.util.LinkedHashMap<>();
        appContext.put("rule", outcome.rule().ruleId());
        appContext.put("plannedLesions", plannedLesions == null ? List.of() : plannedLesions);
        appContext.put(
                "resources",
                outcome.resources().stream()
                        .map(r -> r.type() + "/" + r.id() + (r.version() == null ? "" : "/_history/" + r.version()))
                        .toList());
        CdsServiceResponseLinkJson link = new CdsServiceResponseLinkJson();
        link.setLabel("Ablation planning view: lesions, RAS/BRAF results and evidence");
        link.setUrl(url);
        link.setType("smart");
        try {
            link.setAppContext(APP_CONTEXT_JSON.writeValueAsString(appContext));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return Optional.of(link);
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper APP_CONTEXT_JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private static CdsServiceResponseCardSourceJson source(RuleDefinition rule) {
        CdsServiceResponseCardSourceJson source = new CdsServiceResponseCardSourceJson();
        Optional<RelatedArtifact> first = rule.documentation().stream().findFirst();
        source.setLabel(first.map(d -> d.hasDisplay() ? d.getDisplay() : d.getCitation())
                .orElse("CRLM ablation CDS"));
        first.filter(RelatedArtifact::hasUrl).ifPresent(d -> source.setUrl(d.getUrl()));
        source.setTopic(coding(rule.ruleSystem(), rule.ruleId(), rule.ruleDisplay()));
        return source;
    }

    /** The reasons the rule names, in its order, with their displays from the CodeSystem; a code it lacks is not offered. */
    private List<CdsServiceResponseCodingJson> overrideReasons(RuleDefinition rule, RuleSet rules) {
        List<CdsServiceResponseCodingJson> reasons = new ArrayList<>();
        for (Coding reason : rule.overrideReasons()) {
            String system = reason.hasSystem() ? reason.getSystem() : properties.overrideReasons();
            rules.codeSystem(system)
                    .flatMap(cs -> cs.getConcept().stream()
                            .filter(c -> c.getCode().equals(reason.getCode()))
                            .findFirst())
                    .ifPresent(concept -> reasons.add(coding(system, concept.getCode(), concept.getDisplay())));
        }
        return reasons.isEmpty() ? null : reasons;
    }

    /** A suggestion CQL offered: one draft order per ActivityDefinition it chose (e.g. one coded order per gene), accepted together. */
    private static Optional<CdsServiceResponseSuggestionJson> suggestion(
            Decision.Suggested suggested, RuleSet rules, HookContext context) {
        List<ActivityDefinition> activities = new ArrayList<>();
        for (String definition : suggested.activityDefinitions()) {
            rules.activityDefinition(definition).ifPresent(activities::add);
        }
        if (activities.isEmpty()) {
            return Optional.empty();
        }
        CdsServiceResponseSuggestionJson suggestion = new CdsServiceResponseSuggestionJson();
        suggestion.setLabel(suggested.label());
        suggestion.setUuid(UUID.randomUUID().toString());
        suggestion.setRecommended(true);
        for (ActivityDefinition ad : activities) {
            CdsServiceResponseSuggestionActionJson action = new CdsServiceResponseSuggestionActionJson();
            action.setType("create");
            action.setDescription(ad.getTitle());
            action.setResource(draftOrder(ad, context));
            suggestion.addAction(action);
        }
        return Optional.of(suggestion);
    }

    private static ServiceRequest draftOrder(ActivityDefinition ad, HookContext context) {
        ServiceRequest order = new ServiceRequest();
        order.setStatus(ServiceRequest.ServiceRequestStatus.DRAFT);
        order.setIntent(
                ad.hasIntent()
                        ? ServiceRequest.ServiceRequestIntent.fromCode(
                                ad.getIntent().toCode())
                        : ServiceRequest.ServiceRequestIntent.ORDER);
        if (ad.hasPriority()) {
            order.setPriority(ServiceRequest.ServiceRequestPriority.fromCode(
                    ad.getPriority().toCode()));
        }
        order.setCode(ad.getCode().copy());
        order.setSubject(new Reference("Patient/" + context.patientId()));
        if (context.encounterId() != null && !context.encounterId().isBlank()) {
            order.setEncounter(new Reference("Encounter/" + context.encounterId()));
        }
        if (context.userId().startsWith("Practitioner")) {
            order.setRequester(new Reference(context.userId()));
        }
        order.addInstantiatesCanonical(ad.getUrl() + (ad.hasVersion() ? "|" + ad.getVersion() : ""));
        return order;
    }

    private static CdsServiceResponseCodingJson coding(String system, String code, String display) {
        CdsServiceResponseCodingJson coding = new CdsServiceResponseCodingJson();
        coding.setSystem(system);
        coding.setCode(code);
        coding.setDisplay(display);
        return coding;
    }
}
