package org.crlm.cds.security;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.net.MalformedURLException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.security.oauth2.resource.OAuth2ResourceServerProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtIssuerValidator;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;

/**
 * The FHIR API's bearer tokens, checked as strictly as the CDS client JWTs: signature by a key
 * of the configured JWKS (RSA or EC; never {@code none} or HMAC), the exact issuer
 * ({@code spring.security.oauth2.resourceserver.jwt.issuer-uri}), an {@code aud} naming one of
 * the configured audiences, an {@code exp} no further than {@code max-token-lifetime} from its
 * {@code iat} (or from now). Keys are cached; an unknown {@code kid} re-fetches the JWKS at
 * most once per {@code key-refetch-interval}, so a flood of made-up kids costs no downloads.
 */
@Configuration
@ConditionalOnProperty(name = "crlm.security.fhir-api.enabled", havingValue = "true", matchIfMissing = true)
public class FhirTokenDecoder {

    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(
            JWSAlgorithm.RS256,
            JWSAlgorithm.RS384,
            JWSAlgorithm.RS512,
            JWSAlgorithm.PS256,
            JWSAlgorithm.PS384,
            JWSAlgorithm.PS512,
            JWSAlgorithm.ES256,
            JWSAlgorithm.ES384,
            JWSAlgorithm.ES512);

    @Bean
    JwtDecoder fhirApiJwtDecoder(OAuth2ResourceServerProperties resourceServer, FhirApiProperties properties) {
        OAuth2ResourceServerProperties.Jwt jwt = resourceServer.getJwt();
        NimbusJwtDecoder decoder;
        if (jwt.getJwkSetUri() != null) {
            decoder = new NimbusJwtDecoder(processor(jwt.getJwkSetUri(), properties));
        } else {
            // Keys found through the issuer's discovery document (Spring Security's own caching).
            decoder = NimbusJwtDecoder.withIssuerLocation(jwt.getIssuerUri()).build();
        }
        decoder.setJwtValidator(validator(jwt.getIssuerUri(), jwt.getAudiences(), properties));
        return decoder;
    }

    private static DefaultJWTProcessor<SecurityContext> processor(String jwkSetUri, FhirApiProperties properties) {
        JWKSource<SecurityContext> keys;
        try {
            keys = JWKSourceBuilder.<SecurityContext>create(
                            URI.create(jwkSetUri).toURL(), new DefaultResourceRetriever(5_000, 5_000, 512 * 1024))
                    .cache(
                            Duration.ofHours(1).toMillis(),
                            Duration.ofSeconds(15).toMillis())
                    .rateLimited(properties.keyRefetchInterval().toMillis())
                    .retrying(false)
                    .build();
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw new IllegalStateException("spring.security.oauth2.resourceserver.jwt.jwk-set-uri is not a URL", e);
        }
        // Over the re-fetch rate an unknown kid simply has no key: a 401, not a server error.
        JWKSource<SecurityContext> limited = (selector, context) -> {
            try {
                return keys.get(selector, context);
            } catch (RateLimitReachedException e) {
                return List.of();
            }
        };
        DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, limited));
        processor.setJWSTypeVerifier(
                new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
        // Claims are checked by the Spring validators below.
        processor.setJWTClaimsSetVerifier((claims, context) -> {});
        return processor;
    }

    static OAuth2TokenValidator<Jwt> validator(String issuer, List<String> audiences, FhirApiProperties properties) {
        if (issuer == null || issuer.isBlank() || audiences == null || audiences.isEmpty()) {
            // The start-up check refuses this first; this guards a context built another way.
            throw new IllegalStateException(
                    "The FHIR API needs spring.security.oauth2.resourceserver.jwt.issuer-uri and .audiences");
        }
        return new DelegatingOAuth2TokenValidator<>(
                new JwtTimestampValidator(properties.clockSkew()),
                new JwtIssuerValidator(issuer),
                jwt -> jwt.getAudience() != null && jwt.getAudience().stream().anyMatch(audiences::contains)
                        ? OAuth2TokenValidatorResult.success()
                        : failure("aud"),
                jwt -> lifetime(jwt, properties.maxTokenLifetime(), properties.clockSkew()));
    }

    private static OAuth2TokenValidatorResult lifetime(Jwt jwt, Duration max, Duration skew) {
        Instant exp = jwt.getExpiresAt();
        if (exp == null) {
            return failure("exp");
        }
        Instant from = jwt.getIssuedAt() != null ? jwt.getIssuedAt() : Instant.now();
        if (exp.isAfter(from.plus(max)) || exp.isAfter(Instant.now().plus(max).plus(skew))) {
            return failure("lifetime");
        }
        return OAuth2TokenValidatorResult.success();
    }

    private static OAuth2TokenValidatorResult failure(String claim) {
        return OAuth2TokenValidatorResult.failure(
                new OAuth2Error("invalid_token", "The token's " + claim + " is not acceptable", null));
    }
}
