package org.crlm.cds.support;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;

/** HAPI's FHIR client against the running app, authenticated with a token for the given scopes. */
public final class FhirClients {

    private FhirClients() {}

    public static IGenericClient client(String fhirBase, String token) {
        FhirContext ctx = FhirContext.forR4Cached();
        ctx.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
        ctx.getRestfulClientFactory().setSocketTimeout(120_000);
        IGenericClient client = ctx.newRestfulGenericClient(fhirBase);
        if (token != null) {
            client.registerInterceptor(new BearerTokenAuthInterceptor(token));
        }
        return client;
    }

    public static IGenericClient clinician(String base) {
        return client(base + "/fhir", TestKeys.get().fhirToken("user/*.read", "user/*.write"));
    }

    public static IGenericClient author(String base) {
        return client(base + "/fhir", TestKeys.get().fhirToken("user/*.read", TestKeys.AUTHORING_SCOPE));
    }
}
