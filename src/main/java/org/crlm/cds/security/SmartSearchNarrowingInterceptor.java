package org.crlm.cds.security;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.interceptor.auth.AuthorizedList;
import ca.uhn.fhir.rest.server.interceptor.auth.SearchNarrowingInterceptor;
import java.util.Optional;

/**
 * Narrows the searches of a {@code patient/} token to the compartment of its patient (HAPI
 * adds {@code patient=Patient/<id>} or {@code _id=<id>}), so the authorisation rules, which
 * only allow searches within that compartment, see an allowed search.
 */
public class SmartSearchNarrowingInterceptor extends SearchNarrowingInterceptor {

    private final FhirApiProperties properties;

    public SmartSearchNarrowingInterceptor(FhirApiProperties properties) {
        this.properties = properties;
    }

    @Override
    protected AuthorizedList buildAuthorizedList(RequestDetails request) {
        if (!properties.enabled()) {
            return null;
        }
        Optional<FhirAuthorization> token = FhirAuthorization.current();
        if (token.isEmpty()
                || token.get().patientId().isEmpty()
                || token.get().readsAcrossPatients(request.getResourceName())) {
            return null;
        }
        return new AuthorizedList()
                .addCompartment("Patient/" + token.get().patientId().get());
    }
}
