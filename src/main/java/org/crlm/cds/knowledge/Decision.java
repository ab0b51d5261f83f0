package org.crlm.cds.knowledge;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.crlm.cds.rules.ExpressionFailure;

/**
 * What a service's rules concluded for one patient: per rule, whether it fired, the patient
 * facts its card quotes, or why it could not be evaluated. The one result the hook services,
 * the rule-check CLI, the scenario tests and the console's "why" all read.
 *
 * @param rules          one outcome per rule of the service, in the service's order
 * @param plannedLesions when a rule fired: the lesions planned for ablation as the rules read them
 *                       ("Type/id"), for the planning view a card links to; empty otherwise
 */
public record Decision(ServiceDefinition service, List<RuleOutcome> rules, List<String> plannedLesions) {

    public Decision(ServiceDefinition service, List<RuleOutcome> rules) {
        this(service, rules, List.of());
    }

    /**
     * A rule either fired, did not, or failed (a failure is never read as "did not fire"); or it
     * was not evaluated because the service does not apply to this call (an order hook whose
     * selected or signed orders include no liver ablation).
     */
    public enum Status {
        FIRED,
        NOT_FIRED,
        FAILED,
        NOT_APPLICABLE
    }

    /**
     * @param facts       the facts text of a fired rule; when its facts expression failed, the
     *                    fixed text {@link DecisionEvaluator#FACTS_UNAVAILABLE}
     * @param failure     why the condition (or, for a fired rule, the facts) could not be evaluated
     * @param scopeNote   for a fired rule, how the evidence's setting relates to the planned ablation, or null
     * @param resources   for a fired rule, the FHIR resources the decision read (empty when not listed)
     * @param suggestions for a fired rule, the suggestions its conditions offered, each with the orders chosen
     */
    public record RuleOutcome(
            RuleDefinition rule,
            Status status,
            String facts,
            ExpressionFailure failure,
            String libraryUrl,
            String libraryVersion,
            String scopeNote,
            List<ResourceRef> resources,
            List<Suggested> suggestions) {

        public RuleOutcome(
                RuleDefinition rule,
                Status status,
                String facts,
                ExpressionFailure failure,
                String libraryUrl,
                String libraryVersion) {
            this(rule, status, facts, failure, libraryUrl, libraryVersion, null, List.of(), List.of());
        }

        public boolean fired() {
            return status == Status.FIRED;
        }
    }

    /**
     * A suggestion CQL offered on a fired rule's card.
     *
     * @param activityDefinitions canonicals of the ActivityDefinitions to propose as draft orders, in order
     */
    public record Suggested(String label, List<String> activityDefinitions) {}

    public List<RuleOutcome> fired() {
        return rules.stream().filter(RuleOutcome::fired).toList();
    }

    public List<RuleOutcome> failed() {
        return rules.stream().filter(r -> r.status() == Status.FAILED).toList();
    }

    /** Library canonical → version, for every library whose expressions this decision evaluated. */
    public Map<String, String> libraryVersions() {
        Map<String, String> versions = new LinkedHashMap<>();
        for (RuleOutcome r : rules) {
            if (r.libraryUrl() != null && r.libraryVersion() != null) {
                versions.put(r.libraryUrl(), r.libraryVersion());
            }
        }
        return versions;
    }
}
