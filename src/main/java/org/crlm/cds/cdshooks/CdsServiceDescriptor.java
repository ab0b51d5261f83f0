package org.crlm.cds.cdshooks;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceJson;
import com.fasterxml.jackson.annotation.JsonProperty;

/** HAPI's discovery entry plus the CDS Hooks 2.0 field it lacks ({@code usageRequirements}). */
public class CdsServiceDescriptor extends CdsServiceJson {

    @JsonProperty("usageRequirements")
    private String usageRequirements;

    public String getUsageRequirements() {
        return usageRequirements;
    }

    public CdsServiceDescriptor setUsageRequirements(String usageRequirements) {
        this.usageRequirements = usageRequirements;
        return this;
    }
}
