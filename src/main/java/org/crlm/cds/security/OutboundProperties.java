package org.crlm.cds.security;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Which EHR FHIR servers this service may call for missing prefetch ({@code crlm.security.outbound.*}).
 *
 * @param allowedFhirServers exact base URLs (e.g. https://ehr.example.org/fhir/r4); anything else is refused
 * @param requireHttps       refuse plain http (on outside the demo profile)
 */
@ConfigurationProperties("crlm.security.outbound")
public record OutboundProperties(
        @DefaultValue List<String> allowedFhirServers, @DefaultValue("true") boolean requireHttps) {}
