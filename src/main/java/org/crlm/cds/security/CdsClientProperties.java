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
 * @param keyCacheTtl       how long a fetched JWKS is used before it is fetched again
 * @param keyRefetchInterval least time between two fetches of one JWKS for an unknown kid
 * @param issuers           the trusted EHRs
 */
@ConfigurationProperties("crlm.security.cds-client")
public record CdsClientProperties(
        @DefaultValue("true") boolean enabled,
        String publicBaseUrl,
        @DefaultValue({"RS384", "ES384"}) List<String> algorithms,
        @DefaultValue("15m") Duration maxLifetime,
        @DefaultValue("60s") Duration clockSkew,
        @DefaultValue("1h") Duration keyCacheTtl,
        @DefaultValue("30s") Duration keyRefetchInterval,
        @DefaultValue List<Issuer> issuers) {

    /**
     * A trusted CDS client (EHR). Give its keys one way: a JWKS URL, a JWKS file (sites behind
     * firewalls register keys offline), or the JWKS inline.
     *
     * @param iss        the exact {@code iss} claim
     * @param jwksUrl    where its JWK Set is published
     * @param jwksFile   a JWK Set file
     * @param jwks       a JWK Set as JSON text
     * @param allowedJku {@code jku} header values honoured for this issuer (exact URLs); others are refused
     */
    public record Issuer(String iss, String jwksUrl, Path jwksFile, String jwks, @DefaultValue List<String> allowedJku) {
    }
}
