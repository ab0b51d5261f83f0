package org.crlm.cds.fhirserver;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.PayloadTooLargeException;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Bundle;

/**
 * What one FHIR request may cost once parsed: the entries of a transaction or batch, and the
 * number of {@code _include}/{@code _revinclude} values of a search. (The body size and its
 * encoding are checked before parsing, by {@link FhirBodyLimitFilter}; {@code _count} is
 * capped by the paging provider.)
 */
@Interceptor
public class FhirRequestLimits {

    private final FhirServerProperties properties;

    public FhirRequestLimits(FhirServerProperties properties) {
        this.properties = properties;
    }

    @Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED)
    public void check(RequestDetails request, RestOperationTypeEnum operation) {
        if (operation == RestOperationTypeEnum.TRANSACTION
                && request.getResource() instanceof Bundle bundle
                && bundle.getEntry().size() > properties.maxTransactionEntries()) {
            throw new PayloadTooLargeException(
                    "A transaction or batch may have at most " + properties.maxTransactionEntries() + " entries");
        }
        Map<String, String[]> parameters = request.getParameters();
        if (parameters == null) {
            return;
        }
        int includes = 0;
        for (Map.Entry<String, String[]> parameter : parameters.entrySet()) {
            if (parameter.getKey().startsWith("_include") || parameter.getKey().startsWith("_revinclude")) {
                includes += List.of(parameter.getValue()).size();
            }
        }
        if (includes > properties.maxIncludes()) {
            throw new InvalidRequestException(
                    "A search may have at most " + properties.maxIncludes() + " _include and _revinclude values");
        }
    }
}
