package org.crlm.cds.cdshooks;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Where the patient's record lives ({@code crlm.cds.*}), which decides whether missing prefetch
 * may be read from this server's own FHIR store. Two deployments:
 * <ul>
 *   <li>the EHR writes the clinical data into this server's /fhir (and the demo): the store is
 *       the patient's record, so missing prefetch is read from it;</li>
 *   <li>the EHR keeps its own FHIR server (the default): the store holds only knowledge and
 *       whatever else was written to it, so missing prefetch comes from an allow-listed
 *       {@code fhirServer} or the call is refused with 412 naming the missing keys.</li>
 * </ul>
 *
 * @param localStoreIsPatientRecord this deployment's /fhir holds the EHR's clinical data
 * @param acceptOwnFhirServer       a {@code fhirServer} naming this server's own /fhir on a loopback
 *                                  address (as a client on this machine addresses it) is read from
 *                                  the local store instead of being refused as not allow-listed (demo)
 */
@ConfigurationProperties("crlm.cds")
public record PatientRecordProperties(
        @DefaultValue("false") boolean localStoreIsPatientRecord, @DefaultValue("false") boolean acceptOwnFhirServer) {}
