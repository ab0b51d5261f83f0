package org.crlm.cds.knowledge;

import java.util.List;
import java.util.Map;

/**
 * A CDS service as its PlanDefinition defines it: a top-level action triggered by the hook
 * (named-event), whose sub-actions are the rules it runs.
 *
 * @param prefetch      templates as written in the PlanDefinition (they may use {@code code:in})
 * @param applicability the hook action's applicability condition (e.g. "the hook's orders include a liver
 *                      ablation"), or null: when it is false, no rule of the service applies
 */
public record ServiceDefinition(
        String id,
        String hook,
        String title,
        String description,
        String usageRequirements,
        Map<String, String> prefetch,
        String planDefinition,
        List<RuleDefinition> rules,
        org.crlm.cds.rules.ExpressionRef applicability) {}
