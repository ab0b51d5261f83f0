package org.crlm.cds.security;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Protection of the FHIR API at /fhir and of the authoring console ({@code crlm.security.fhir-api.*}).
 * Tokens come from the OAuth2 server named by {@code spring.security.oauth2.resourceserver.jwt.issuer-uri}
 * (exact {@code iss}), its keys from {@code .jwk-set-uri}, and must name one of {@code .audiences}.
 *
 * @param enabled            off only in the demo profile
 * @param authoringScope     the scope needed to publish rules (write Library, PlanDefinition,
 *                           ActivityDefinition, ValueSet, ConceptMap, CodeSystem) and to use the console
 * @param adminScope         the scope needed for server-level and destructive operations ($reindex,
 *                           $hapi.fhir.merge, $expunge ...); no clinical token should carry it
 * @param metricsScope       the scope needed for /actuator/prometheus and /actuator/metrics (Prometheus scrapes
 *                           with a client-credentials token); health probes need none
 * @param maxTokenLifetime   a token whose exp is further than this from its iat (or from now) is refused
 * @param clockSkew          tolerance on exp, nbf and iat
 * @param keyRefetchInterval an unknown kid re-fetches the JWKS at most this often
 * @param authorizeEndpoint  SMART discovery: the OAuth2 server's authorization endpoint
 * @param tokenEndpoint      SMART discovery: the OAuth2 server's token endpoint
 */
@ConfigurationProperties("crlm.security.fhir-api")
public record FhirApiProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("crlm/rules.write") String authoringScope,
        @DefaultValue("crlm/fhir.admin") String adminScope,
        @DefaultValue("crlm/metrics.read") String metricsScope,
        @DefaultValue("1h") Duration maxTokenLifetime,
        @DefaultValue("60s") Duration clockSkew,
        @DefaultValue("30s") Duration keyRefetchInterval,
        String authorizeEndpoint,
        String tokenEndpoint) {}
