package org.crlm.cds.knowledge;

import java.util.List;
import org.crlm.cds.rules.ExpressionRef;

/**
 * A suggestion a rule's card may carry: a sub-action of the rule action whose definitionCanonical
 * names an ActivityDefinition (one draft order) or an order-set PlanDefinition (one draft order
 * per action). CQL decides whether it is offered (the sub-action's applicability condition) and,
 * for an order set, which of its orders (each action's condition), so that for example a test
 * with an existing result is not ordered again.
 *
 * @param label     the sub-action's title (else the definition's title), shown to the clinician
 * @param condition when the suggestion is offered, or null for always (when the rule fires)
 * @param orders    the orders it may propose, in order
 */
public record SuggestionDefinition(String label, ExpressionRef condition, List<Order> orders) {

    /**
     * @param activityDefinition canonical of the ActivityDefinition the draft order is made from
     * @param condition          when this order is included, or null for always
     */
    public record Order(String activityDefinition, ExpressionRef condition) {}
}
