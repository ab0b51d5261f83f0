package org.crlm.cds.cdshooks;

import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The patient's data for one hook call, and where each prefetch key's data came from.
 *
 * @param sources prefetch key → {@link Source}
 */
public record PatientRecord(List<IBaseResource> resources, Map<String, Source> sources) {

    public enum Source { PREFETCH, PREFETCH_NULL, FHIR_SERVER, LOCAL_STORE }
}
