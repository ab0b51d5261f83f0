package org.crlm.cds.cdshooks;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The CDS Hooks services' settings ({@code crlm.cds.*}).
 *
 * @param advertiseExpandedCodes  discovery shows prefetch templates with explicit code lists
 *                                instead of {@code code:in=<ValueSet>} (not every EHR supports :in)
 * @param overrideReasons         CodeSystem of override reasons, for a rule that names a reason code without its system
 * @param fetchTimeout            time limit of one request to the EHR's FHIR server
 * @param maxResponseSize         largest response accepted from the EHR's FHIR server
 * @param maxPages                most search pages followed per prefetch query
 * @param maxResourcesPerQuery    a query matching more resources than this is refused (412), never truncated
 * @param fetchThreads            threads that run one call's missing prefetch queries side by side
 *                                (local store or the EHR's FHIR server); 0 runs them one after another
 * @param planningViewUrl         launch URL of the Ablation planning view (the SMART app under /smart/) that every
 *                                rule card links to ({@code links[]} of type smart); blank: no link
 */
@ConfigurationProperties("crlm.cds")
public record CdsHooksProperties(
        @DefaultValue("true") boolean advertiseExpandedCodes,
        @DefaultValue("http://crlm-cds.org/fhir/CodeSystem/crlm-override-reason") String overrideReasons,
        @DefaultValue("5s") Duration fetchTimeout,
        @DefaultValue("20MB") DataSize maxResponseSize,
        @DefaultValue("20") int maxPages,
        @DefaultValue("5000") int maxResourcesPerQuery,
        @DefaultValue("8") int fetchThreads,
        @DefaultValue("http://127.0.0.1:8080/smart/launch.html") String planningViewUrl) {}
