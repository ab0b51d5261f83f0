package org.crlm.cds.security;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Authentication of the EHRs (CDS clients) that call the services ({@code crlm.security.cds-client.*}),
 * per the CDS Hooks 2.0 security section: every call carries a JWT signed by the client.
 *
 * @param enabled           off only in the demo profile (which then binds to 127.0.0.1)
 * @param publicBaseUrl     the base URL EHRs call (e.g. https://cds.example.org); the JWT's aud must be this
 *                          plus the path called. Empty: taken from the request (scheme, host, port)
 * @param algorithms        accepted JWS algorithms; never none or HMAC
 * @param maxLifetime       longest accepted exp - iat (Epic issues 15-minute tokens)
 * @param clockSkew         tolerance on exp, iat and nbf
 * @param keyCacheTtl       how long a fetched JWKS is used when its response states no lifetime (Cache-Control max-age)
 * @param keyCacheMinTtl    shortest lifetime granted to a fetched JWKS, whatever its Cache-Control says (no-cache included)
 * @param keyCacheMaxTtl    longest lifetime granted to a fetched JWKS: a key removed from a JWKS URL stops verifying within this
 * @param keyFileCheckInterval how often a JWKS file is checked for a change: a key removed from a file stops verifying within this
 * @param keyRefetchInterval least time between two early fetches of one JWKS for an unknown kid
 * @param issuers           the trusted EHRs
 */
@ConfigurationProperties("crlm.security.cds-client")
public record CdsClientProperties(
        @DefaultValue("true") boolean enabled,
        String publicBaseUrl,
        @DefaultValue({"RS384", "ES384"}) List<String> algorithms,
        @DefaultValue("15m") Duration maxLifetime,
        @DefaultValue("60s") Duration clockSkew,
        @DefaultValue("5m") Duration keyCacheTtl,
        @DefaultValue("30s") Duration keyCacheMinTtl,
        @DefaultValue("15m") Duration keyCacheMaxTtl,
        @DefaultValue("10s") Duration keyFileCheckInterval,
        @DefaultValue("30s") Duration keyRefetchInterval,
        @DefaultValue List<Issuer> issuers) {

    /**
     * A trusted CDS client (EHR). Register its keys at most one way (a JWKS URL, a JWKS file for
     * sites behind firewalls, or the JWKS inline), and/or the {@code jku} URLs its tokens may name.
     * A token's {@code jku} on the allow-list is fetched and its keys used; a {@code jku} not on it
     * is never fetched (SMART Backend Services), and the registered keys decide.
     *
     * @param iss        the exact {@code iss} claim
     * @param jwksUrl    where its JWK Set is published
     * @param jwksFile   a JWK Set file
     * @param jwks       a JWK Set as JSON text
     * @param allowedJku {@code jku} header values fetched for this issuer (exact URLs); others are ignored
     */
    public record Issuer(
            String iss, String jwksUrl, Path jwksFile, String jwks, @DefaultValue List<String> allowedJku) {}
}
