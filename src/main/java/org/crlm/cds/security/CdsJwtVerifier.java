package org.crlm.cds.security;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.http.HttpClient;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.springframework.stereotype.Component;

/**
 * Verifies the JWT a CDS client (EHR) sends with every call, per CDS Hooks 2.0: signature by
 * a trusted issuer's key, selected by kid from the JWKS its {@code jku} names when that URL is
 * on the issuer's allow-list, else (and also) from the issuer's registered keys; a {@code jku}
 * not on the allow-list is never fetched (SMART Backend Services) and leaves the decision to
 * the registered keys. Then an accepted algorithm (never none or HMAC), {@code aud} equal to the URL called,
 * {@code exp}/{@code iat}/{@code nbf} with bounded lifetime and skew, and a {@code jti} never
 * seen before (recorded last, so a refused token leaves no trace).
 */
@Component
public class CdsJwtVerifier {

    private static final int MAX_CACHED_VERIFIERS = 256;

    /** Why a token was refused; logged, never sent to the client. */
    public enum Reason {
        MISSING,
        MALFORMED,
        ALGORITHM,
        TYPE,
        NO_KID,
        UNTRUSTED_ISSUER,
        JKU_NOT_ALLOWED,
        UNKNOWN_KEY,
        BAD_SIGNATURE,
        AUDIENCE,
        EXPIRED,
        NOT_YET_VALID,
        ISSUED_IN_FUTURE,
        LIFETIME_TOO_LONG,
        MISSING_CLAIM,
        REPLAY
    }

    /** A refusal, with what may be logged about the token (never the token itself). */
    public static final class Refusal extends RuntimeException {
        private final Reason reason;
        private final String issuer;
        private final String kid;

        Refusal(Reason reason, String issuer, String kid) {
            super(reason.name(), null, false, false);
            this.reason = reason;
            this.issuer = issuer;
            this.kid = kid;
        }

        public Reason reason() {
            return reason;
        }

        public String issuer() {
            return issuer;
        }

        public String kid() {
            return kid;
        }
    }

    /** A verified client. */
    public record Client(String issuer, String tenant, String jti) {}

    private final CdsClientProperties properties;
    private final JtiReplayStore replays;
    private final Clock clock;
    private final Set<JWSAlgorithm> algorithms;
    private final Map<String, KeySource> issuerKeys = new HashMap<>();
    private final Map<String, CdsClientProperties.Issuer> issuers = new HashMap<>();
    private final Map<String, KeySource> jkuKeys = new HashMap<>();
    private final Map<JWK, JWSVerifier> verifiers = new ConcurrentHashMap<>();
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    @org.springframework.beans.factory.annotation.Autowired
    public CdsJwtVerifier(CdsClientProperties properties, JtiReplayStore replays) {
        this(properties, replays, Clock.systemUTC());
    }

    CdsJwtVerifier(CdsClientProperties properties, JtiReplayStore replays, Clock clock) {
        this.properties = properties;
        this.replays = replays;
        this.clock = clock;
        this.algorithms =
                properties.algorithms().stream().map(JWSAlgorithm::parse).collect(Collectors.toSet());
        for (JWSAlgorithm alg : algorithms) {
            if (!JWSAlgorithm.Family.RSA.contains(alg) && !JWSAlgorithm.Family.EC.contains(alg)) {
                throw new IllegalStateException(
                        "crlm.security.cds-client.algorithms may only list RSA or EC signatures, not " + alg);
            }
        }
        KeySource.Freshness freshness = KeySource.Freshness.of(properties);
        for (CdsClientProperties.Issuer issuer : properties.issuers()) {
            try {
                issuers.put(issuer.iss(), issuer);
                KeySource registered = keySource(issuer, freshness);
                if (registered != null) {
                    issuerKeys.put(issuer.iss(), registered);
                }
                for (String jku : issuer.allowedJku()) {
                    jkuKeys.computeIfAbsent(jku, u -> KeySource.url(u, freshness, http, clock));
                }
            } catch (RuntimeException e) {
                throw new IllegalStateException("CDS client issuer " + issuer.iss() + ": " + e.getMessage(), e);
            }
        }
    }

    /** The issuer's registered keys; null when it has only allow-listed jku URLs. */
    private KeySource keySource(CdsClientProperties.Issuer issuer, KeySource.Freshness freshness) {
        if (issuer.jwks() != null && !issuer.jwks().isBlank()) {
            return KeySource.inline(issuer.jwks());
        }
        if (issuer.jwksFile() != null) {
            return KeySource.file(issuer.jwksFile(), freshness, clock);
        }
        if (issuer.jwksUrl() != null && !issuer.jwksUrl().isBlank()) {
            return KeySource.url(issuer.jwksUrl(), freshness, http, clock);
        }
        return null;
    }

    /**
     * Fetches every registered issuer's keys and prepares their verifiers, so the first hook
     * call after start-up does not wait for a JWKS download. A failure is logged and retried on
     * the first call.
     *
     * @return the number of keys ready
     */
    public int preloadKeys() {
        int ready = 0;
        List<KeySource> sources = new ArrayList<>(issuerKeys.values());
        sources.addAll(jkuKeys.values());
        for (KeySource source : sources) {
            source.preload();
            for (JWK key : source.currentKeys()) {
                if (key instanceof RSAKey || key instanceof ECKey) {
                    try {
                        verifier(key);
                        ready++;
                    } catch (JOSEException e) {
                        // an unusable key in the set is refused when a token names it
                    }
                }
            }
        }
        return ready;
    }

    /**
     * @param authorization   the Authorization header (may be null)
     * @param acceptedAudiences the URLs that may stand in {@code aud} for this call
     */
    public Client verify(String authorization, List<String> acceptedAudiences) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new Refusal(Reason.MISSING, null, null);
        }
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(authorization.substring(7).trim());
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException | ClassCastException e) {
            throw new Refusal(Reason.MALFORMED, null, null);
        }
        JWSHeader header = jwt.getHeader();
        String issuer = claims.getIssuer();
        String kid = header.getKeyID();
        if (!algorithms.contains(header.getAlgorithm())) {
            throw new Refusal(Reason.ALGORITHM, issuer, kid);
        }
        if (header.getType() != null && !JOSEObjectType.JWT.equals(header.getType())) {
            throw new Refusal(Reason.TYPE, issuer, kid);
        }
        if (kid == null || kid.isBlank()) {
            throw new Refusal(Reason.NO_KID, issuer, null);
        }
        CdsClientProperties.Issuer trusted = issuer == null ? null : issuers.get(issuer);
        if (trusted == null) {
            throw new Refusal(Reason.UNTRUSTED_ISSUER, issuer, kid);
        }
        List<KeySource> candidates = new ArrayList<>(2);
        boolean jkuIgnored = false;
        if (header.getJWKURL() != null) {
            KeySource published =
                    trusted.allowedJku().contains(header.getJWKURL().toString())
                            ? jkuKeys.get(header.getJWKURL().toString())
                            : null;
            if (published != null) {
                candidates.add(published);
            } else {
                jkuIgnored = true; // never fetched: the registered keys decide
            }
        }
        KeySource registered = issuerKeys.get(issuer);
        if (registered != null) {
            candidates.add(registered);
        }
        boolean keyFound = false;
        boolean verified = false;
        for (KeySource candidate : candidates) {
            JWK key = candidate.key(kid).orElse(null);
            if (key != null) {
                keyFound = true;
                if (signatureValid(jwt, key)) {
                    verified = true;
                    break;
                }
            }
        }
        if (!verified) {
            Reason reason = keyFound
                    ? Reason.BAD_SIGNATURE
                    : jkuIgnored && registered == null ? Reason.JKU_NOT_ALLOWED : Reason.UNKNOWN_KEY;
            throw new Refusal(reason, issuer, kid);
        }
        checkClaims(claims, acceptedAudiences, issuer, kid);
        String jti = claims.getJWTID();
        if (!replays.firstUse(
                issuer, jti, claims.getExpirationTime().toInstant().plus(properties.clockSkew()))) {
            throw new Refusal(Reason.REPLAY, issuer, kid);
        }
        return new Client(issuer, stringClaim(claims, "tenant"), jti);
    }

    private void checkClaims(JWTClaimsSet claims, List<String> acceptedAudiences, String issuer, String kid) {
        Date exp = claims.getExpirationTime();
        Date iat = claims.getIssueTime();
        if (exp == null
                || iat == null
                || claims.getJWTID() == null
                || claims.getJWTID().isBlank()) {
            throw new Refusal(Reason.MISSING_CLAIM, issuer, kid);
        }
        if (claims.getAudience() == null || claims.getAudience().stream().noneMatch(acceptedAudiences::contains)) {
            throw new Refusal(Reason.AUDIENCE, issuer, kid);
        }
        Instant now = Instant.now(clock);
        Duration skew = properties.clockSkew();
        if (exp.toInstant().isBefore(now.minus(skew))) {
            throw new Refusal(Reason.EXPIRED, issuer, kid);
        }
        if (iat.toInstant().isAfter(now.plus(skew))) {
            throw new Refusal(Reason.ISSUED_IN_FUTURE, issuer, kid);
        }
        if (claims.getNotBeforeTime() != null
                && claims.getNotBeforeTime().toInstant().isAfter(now.plus(skew))) {
            throw new Refusal(Reason.NOT_YET_VALID, issuer, kid);
        }
        if (Duration.between(iat.toInstant(), exp.toInstant()).compareTo(properties.maxLifetime()) > 0) {
            throw new Refusal(Reason.LIFETIME_TOO_LONG, issuer, kid);
        }
    }

    private boolean signatureValid(SignedJWT jwt, JWK key) {
        JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
        boolean fits = key instanceof RSAKey
                ? JWSAlgorithm.Family.RSA.contains(alg)
                : key instanceof ECKey && JWSAlgorithm.Family.EC.contains(alg);
        if (!fits) {
            return false;
        }
        try {
            return jwt.verify(verifier(key));
        } catch (JOSEException | IllegalStateException e) {
            return false;
        }
    }

    // Building a verifier decodes the key (constant-time Base64, KeyFactory): once per key, not per call.
    private JWSVerifier verifier(JWK key) throws JOSEException {
        JWSVerifier cached = verifiers.get(key);
        if (cached != null) {
            return cached;
        }
        JWSVerifier made = key instanceof RSAKey rsa ? new RSASSAVerifier(rsa) : new ECDSAVerifier((ECKey) key);
        if (verifiers.size() >= MAX_CACHED_VERIFIERS) {
            verifiers.clear(); // keys rotate rarely; a full map means stale keys, not a hot set
        }
        verifiers.put(key, made);
        return made;
    }

    private static String stringClaim(JWTClaimsSet claims, String name) {
        try {
            return claims.getStringClaim(name);
        } catch (ParseException e) {
            return null;
        }
    }

    Optional<CdsClientProperties.Issuer> issuer(String iss) {
        return Optional.ofNullable(issuers.get(iss));
    }
}
