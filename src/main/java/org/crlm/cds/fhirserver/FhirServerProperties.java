package org.crlm.cds.fhirserver;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The FHIR server's own settings ({@code crlm.fhir.*}).
 *
 * @param defaultPageSize search page size when the client asks for none
 * @param maxPageSize     the largest page a client may ask for
 */
@ConfigurationProperties("crlm.fhir")
public record FhirServerProperties(
        @DefaultValue("50") int defaultPageSize,
        @DefaultValue("500") int maxPageSize) {
}
