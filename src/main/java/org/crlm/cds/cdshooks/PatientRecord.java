package org.crlm.cds.cdshooks;

import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The patient's data for one hook call, and where each prefetch key's data came from.
 *
 * @param sources prefetch key → {@link Source}
 * @param read    every resource read, with its version and where it came from (ids only, for the audit)
 */
public record PatientRecord(List<IBaseResource> resources, Map<String, Source> sources, List<ResourceRead> read) {

    public enum Source {
        PREFETCH,
        PREFETCH_NULL,
        FHIR_SERVER,
        LOCAL_STORE,
        HOOK_CONTEXT
    }

    public PatientRecord(List<IBaseResource> resources, Map<String, Source> sources) {
        this(resources, sources, List.of());
    }

    /**
     * One resource the decision read: its reference, version (null when the sender gave none), and
     * where it came from (the prefetch key and its source, or the hook's context for draft orders).
     */
    public record ResourceRead(String reference, String version, Source source, String prefetchKey) {

        static ResourceRead of(IBaseResource resource, Source source, String prefetchKey) {
            String version = resource.getIdElement().getVersionIdPart();
            if (version == null && resource.getMeta() != null) {
                version = resource.getMeta().getVersionId();
            }
            return new ResourceRead(
                    resource.fhirType() + "/" + resource.getIdElement().getIdPart(), version, source, prefetchKey);
        }
    }
}
