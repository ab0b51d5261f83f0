package org.crlm.cds.fhirserver;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The FHIR server's own settings ({@code crlm.fhir.*}). Request bodies on /fhir are capped by
 * {@code crlm.security.limits.max-body-size}, as on the hooks.
 *
 * @param defaultPageSize        search page size when the client asks for none
 * @param maxPageSize            the largest page a client may ask for ({@code _count} above it is capped)
 * @param maxTransactionEntries  a transaction or batch with more entries is refused (413)
 * @param maxIncludes            a search with more {@code _include}/{@code _revinclude} values is refused (400)
 * @param publicBaseUrl          the external base of the FHIR API (https://host/fhir) used in Bundle links and
 *                               Location headers; default {@code crlm.security.cds-client.public-base-url} + /fhir,
 *                               and only in the demo profile the URL of the request (its Host header)
 * @param resourceTypes          the resource types /fhir stores and serves (HAPI creates a DAO and a REST
 *                               provider for each, which is most of its start-up); empty: all R4 types.
 *                               Bound once at start-up, by {@link SupportedResourceTypes}
 */
@ConfigurationProperties("crlm.fhir")
public record FhirServerProperties(
        @DefaultValue("50") int defaultPageSize,
        @DefaultValue("500") int maxPageSize,
        @DefaultValue("1000") int maxTransactionEntries,
        @DefaultValue("5") int maxIncludes,
        String publicBaseUrl,
        List<String> resourceTypes) {}
