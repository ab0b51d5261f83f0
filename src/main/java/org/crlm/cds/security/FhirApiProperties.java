package org.crlm.cds.security;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Protection of the FHIR API at /fhir and of the authoring console ({@code crlm.security.fhir-api.*}).
 * Tokens are validated by Spring Security's resource server: set
 * {@code spring.security.oauth2.resourceserver.jwt.issuer-uri} or {@code .jwk-set-uri}.
 *
 * @param enabled        off only in the demo profile
 * @param authoringScope the scope needed to publish rules (write Library, PlanDefinition,
 *                       ActivityDefinition, ValueSet, ConceptMap, CodeSystem) and to use the console
 */
@ConfigurationProperties("crlm.security.fhir-api")
public record FhirApiProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("crlm/rules.write") String authoringScope) {
}
