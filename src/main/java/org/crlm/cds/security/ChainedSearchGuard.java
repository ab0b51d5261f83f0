package org.crlm.cds.security;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import java.util.Optional;
import java.util.Set;

/**
 * Chained ({@code subject:Patient.name=...}) and reverse-chained ({@code _has:Observation:patient:code=...})
 * search parameters filter on resources that are not returned, so HAPI's checks of the returned
 * resources never see them: a token that may not read those types could learn from the matches
 * who has which data. Such a parameter needs a read scope for every type it looks into.
 */
@Interceptor
public class ChainedSearchGuard {

    private final FhirContext fhirContext;
    private final FhirApiProperties properties;

    public ChainedSearchGuard(FhirContext fhirContext, FhirApiProperties properties) {
        this.fhirContext = fhirContext;
        this.properties = properties;
    }

    @Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED)
    public void check(RequestDetails request) {
        if (!properties.enabled() || request.getParameters() == null) {
            return;
        }
        Optional<FhirAuthorization> token = FhirAuthorization.current();
        if (token.isEmpty()) {
            return; // the authorisation rules deny it
        }
        for (String name : request.getParameters().keySet()) {
            check(token.get(), request.getResourceName(), name);
            if (name.equals("_sort")) {
                for (String value : request.getParameters().get(name)) {
                    for (String key : value.split(",")) {
                        check(token.get(), request.getResourceName(), key.startsWith("-") ? key.substring(1) : key);
                    }
                }
            }
        }
    }

    private void check(FhirAuthorization token, String resourceType, String name) {
        if (name.startsWith("_has:")) {
            String[] parts = name.split(":");
            for (int i = 0; i + 1 < parts.length; i++) {
                if (parts[i].equals("_has") && !token.reads(parts[i + 1])) {
                    throw denied();
                }
            }
            return;
        }
        int dot = name.indexOf('.');
        if (dot < 0) {
            return;
        }
        if (name.indexOf('.', dot + 1) >= 0 && !token.readsEveryType()) {
            throw denied(); // a chain of chains: only a token that reads everything
        }
        String head = name.substring(0, dot);
        int colon = head.indexOf(':');
        if (colon >= 0) {
            if (!token.reads(head.substring(colon + 1))) {
                throw denied();
            }
            return;
        }
        for (String target : targets(resourceType, head)) {
            if (!token.reads(target)) {
                throw denied();
            }
        }
    }

    /** The types a reference search parameter may point to; "*" (every type) when unknown. */
    private Set<String> targets(String resourceType, String parameter) {
        if (resourceType == null) {
            return Set.of("*");
        }
        RuntimeResourceDefinition definition;
        try {
            definition = fhirContext.getResourceDefinition(resourceType);
        } catch (RuntimeException e) {
            return Set.of("*");
        }
        RuntimeSearchParam searchParam = definition.getSearchParam(parameter);
        if (searchParam == null || searchParam.getTargets().isEmpty()) {
            return Set.of("*");
        }
        return searchParam.getTargets();
    }

    private static ForbiddenOperationException denied() {
        return new ForbiddenOperationException(
                "The access token's scopes do not allow searching on these resource types");
    }
}
