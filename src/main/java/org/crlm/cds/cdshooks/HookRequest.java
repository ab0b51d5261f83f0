package org.crlm.cds.cdshooks;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * A validated CDS Hooks 2.0 service request.
 *
 * @param prefetch the prefetch object as sent: a key with a JSON null value means "no data",
 *                 a key that is absent means "not provided" (CDS Hooks 2.0 section on prefetch)
 */
public record HookRequest(
        String hook,
        String hookInstance,
        String fhirServer,
        FhirAuthorization fhirAuthorization,
        HookContext context,
        Map<String, JsonNode> prefetch) {

    @Override
    public String toString() {
        return "HookRequest[hook=" + hook + ", hookInstance=" + hookInstance + ", fhirServer=" + fhirServer + "]";
    }
}
