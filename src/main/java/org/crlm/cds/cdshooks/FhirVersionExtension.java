package org.crlm.cds.cdshooks;

import ca.uhn.fhir.rest.api.server.cdshooks.CdsHooksExtension;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A discovery entry's {@code extension} (CDS Hooks 2.0 reserves {@code extension} for this):
 * the FHIR version the service reads in prefetch, draftOrders and fhirServer responses.
 */
public class FhirVersionExtension extends CdsHooksExtension {

    public static final String KEY = "org.crlm-cds.fhir";
    public static final String FHIR_VERSION = "4.0.1";

    @JsonProperty(KEY)
    private final Fhir fhir = new Fhir();

    /** FHIR R4, the only version the service reads. */
    public static class Fhir {
        @JsonProperty("fhirVersion")
        public final String fhirVersion = FHIR_VERSION;

        @JsonProperty("release")
        public final String release = "R4";
    }
}
