package org.crlm.cds.knowledge;

import java.util.List;
import org.crlm.cds.rules.ExpressionRef;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.RelatedArtifact;

/**
 * One rule of a service, read from its PlanDefinition action: when {@code condition} is
 * true, a card with {@code summary}, the patient's {@code facts} and the {@code evidence}.
 *
 * @param ruleId             the rule code (R1 ... R8) from action.code
 * @param priority           action.priority: routine → info, urgent → warning, asap/stat → critical
 * @param suggestions        the suggestions the card may carry (CQL decides which are offered)
 * @param planDefinition     canonical|version of the rule's PlanDefinition
 * @param evidenceParagraphs the findings the card quotes, in order
 * @param resources          expression (dynamicValue on action.input) listing the FHIR resources behind the decision
 * @param overrideReasons    the override reasons this rule's card offers (system and code; display from the CodeSystem)
 * @param scopeNote          expression (dynamicValue on action.documentation) saying how the evidence's setting
 *                           relates to the planned ablation, or null
 */
public record RuleDefinition(
        String ruleId,
        String ruleSystem,
        String ruleDisplay,
        String summary,
        String evidence,
        String priority,
        List<RelatedArtifact> documentation,
        ExpressionRef condition,
        ExpressionRef facts,
        List<SuggestionDefinition> suggestions,
        String planDefinition,
        List<EvidenceParagraph> evidenceParagraphs,
        ExpressionRef scopeNote,
        List<Coding> overrideReasons,
        ExpressionRef resources) {

    public static final String OVERRIDE_REASON_EXTENSION =
            "http://crlm-cds.org/fhir/StructureDefinition/override-reason";
}
