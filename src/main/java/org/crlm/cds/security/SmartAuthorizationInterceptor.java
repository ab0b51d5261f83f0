package org.crlm.cds.security;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.interceptor.auth.AuthorizationInterceptor;
import ca.uhn.fhir.rest.server.interceptor.auth.IAuthRule;
import ca.uhn.fhir.rest.server.interceptor.auth.IAuthRuleBuilderRuleOp;
import ca.uhn.fhir.rest.server.interceptor.auth.IAuthRuleBuilderRuleOpClassifier;
import ca.uhn.fhir.rest.server.interceptor.auth.PolicyEnum;
import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.PlanDefinition;

/**
 * The FHIR API's authorisation, decided by HAPI on its parsed request: rules are built per
 * request from the token's SMART scopes, and HAPI checks them against every resource read,
 * returned (search results, includes, revincludes, $everything, history) or written.
 * {@code patient/} scopes hold to the compartment of the token's {@code patient}; writes of
 * knowledge resources need the authoring scope; $apply and $evaluate need a read scope on every
 * type; any other operation needs the admin scope.
 * Whatever no rule allows is denied.
 */
public class SmartAuthorizationInterceptor extends AuthorizationInterceptor {

    private final FhirApiProperties properties;

    public SmartAuthorizationInterceptor(FhirApiProperties properties) {
        super(PolicyEnum.DENY);
        this.properties = properties;
    }

    @Override
    public List<IAuthRule> buildRuleList(RequestDetails request) {
        RuleBuilder rules = new RuleBuilder();
        if (!properties.enabled()) {
            return rules.allowAll("demo profile: the FHIR API is open").build();
        }
        rules.allow("capability statement").metadata();
        Optional<FhirAuthorization> token = FhirAuthorization.current();
        if (token.isEmpty()) {
            return rules.denyAll("no verified token").build();
        }
        FhirAuthorization grant = token.get();
        if (grant.has(properties.adminScope())) {
            rules.allow("admin scope: operations")
                    .operation()
                    .withAnyName()
                    .atAnyLevel()
                    .andAllowAllResponses();
        }
        knowledgeRules(rules, grant);
        IdType patient = grant.patientId().map(id -> new IdType("Patient", id)).orElse(null);
        // Creates before the update-only denials below, so a create scope is never shadowed.
        List<SmartScope> usable = grant.clinical().stream()
                .filter(s -> !s.patientContext() || patient != null)
                .toList();
        for (SmartScope scope : usable) {
            if (scope.create()) {
                restrict(rules.allow(scope + " create").create(), scope, patient);
            }
        }
        for (SmartScope scope : usable) {
            if (scope.read()) {
                restrict(rules.allow(scope + " read").read(), scope, patient);
            }
            if (scope.update()) {
                if (!scope.create()) {
                    // HAPI's write() covers create and update: a v2 "u" without "c" must not create.
                    restrict(rules.deny(scope + " has no create").create(), scope, patient);
                }
                restrict(rules.allow(scope + " update").write(), scope, patient);
            }
            if (scope.delete()) {
                restrict(rules.allow(scope + " delete").delete(), scope, patient);
            }
            if (scope.read() && scope.anyType()) {
                clinicalReasoningRules(rules, scope);
                if (scope.patientContext()) {
                    rules.allow(scope + " $everything")
                            .operation()
                            .named("$everything")
                            .onInstance(patient)
                            .andRequireExplicitResponseAuthorization();
                } else {
                    rules.allow(scope + " $everything")
                            .operation()
                            .named("$everything")
                            .onInstancesOfType(Patient.class)
                            .andRequireExplicitResponseAuthorization();
                }
            }
        }
        if (!usable.isEmpty() || grant.has(properties.authoringScope())) {
            // Each entry of a transaction or batch is checked by the rules above.
            rules.allow("transaction entries by the normal rules")
                    .transaction()
                    .withAnyOperation()
                    .andApplyNormalRules();
        }
        return rules.denyAll("no scope allows this").build();
    }

    /**
     * PlanDefinition/$apply and Library/$evaluate read a patient's whole record and the
     * knowledge: they need a read scope on every type. The answer (a CarePlan, or Parameters
     * with the resources it names) and every resource the operation reads are then checked by
     * the read rules, so a {@code patient/} scope applies the rules to its own patient only.
     */
    private static void clinicalReasoningRules(RuleBuilder rules, SmartScope scope) {
        rules.allow(scope + " $apply")
                .operation()
                .named("$apply")
                .onType(PlanDefinition.class)
                .andRequireExplicitResponseAuthorization();
        rules.allow(scope + " $apply")
                .operation()
                .named("$apply")
                .onInstancesOfType(PlanDefinition.class)
                .andRequireExplicitResponseAuthorization();
        rules.allow(scope + " $evaluate")
                .operation()
                .named("$evaluate")
                .onType(Library.class)
                .andRequireExplicitResponseAuthorization();
        rules.allow(scope + " $evaluate")
                .operation()
                .named("$evaluate")
                .onInstancesOfType(Library.class)
                .andRequireExplicitResponseAuthorization();
    }

    /** Knowledge resources (rules, terminology): written only with the authoring scope, whatever the clinical scopes. */
    private void knowledgeRules(RuleBuilder rules, FhirAuthorization grant) {
        boolean author = grant.has(properties.authoringScope());
        for (String type : SmartScopes.KNOWLEDGE_TYPES) {
            if (author) {
                rules.allow("authoring scope").read().resourcesOfType(type).withAnyId();
                rules.allow("authoring scope").write().resourcesOfType(type).withAnyId();
                rules.allow("authoring scope").delete().resourcesOfType(type).withAnyId();
            } else {
                rules.deny("knowledge writes need the authoring scope")
                        .write()
                        .resourcesOfType(type)
                        .withAnyId();
                rules.deny("knowledge deletes need the authoring scope")
                        .delete()
                        .resourcesOfType(type)
                        .withAnyId();
            }
        }
        if (author) {
            rules.allow("rule check")
                    .operation()
                    .named("$validate-rules")
                    .onType(Library.class)
                    .andAllowAllResponses();
            rules.allow("rule check")
                    .operation()
                    .named("$validate-rules")
                    .onType(PlanDefinition.class)
                    .andAllowAllResponses();
        }
    }

    private static void restrict(IAuthRuleBuilderRuleOp op, SmartScope scope, IdType patient) {
        IAuthRuleBuilderRuleOpClassifier target =
                scope.anyType() ? op.allResources() : op.resourcesOfType(scope.resourceType());
        if (scope.patientContext()) {
            target.inCompartment("Patient", patient);
        } else {
            target.withAnyId();
        }
    }
}
