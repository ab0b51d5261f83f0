package org.crlm.cds.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokens shaped as real CDS clients send them (ES384 and RS384, with and without {@code jku},
 * kid rotation), verified against each way an EHR's keys are registered: a JWKS URL (Epic and
 * Oracle Health publish one), a JWKS file (the CDS Hooks Sandbox's public set, or any site
 * behind a firewall), an inline set, or only allowed {@code jku} URLs. The JWKS endpoints are
 * real HTTP servers on loopback and the files real files, rewritten to rotate keys.
 */
class CdsClientKeysTest {

    private static final String AUD = "https://cds.example.org/cds-services/crlm-ablation-patient-view";

    @TempDir
    Path temp;

    private HttpServer server;
    private final Map<String, JWKSet> published = new ConcurrentHashMap<>();
    private final Map<String, String> cacheControl = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

    private ECKey ec1;
    private ECKey ec2;
    private RSAKey rsa1;
    private RSAKey rsa2;

    @BeforeEach
    void start() throws Exception {
        ec1 = new ECKeyGenerator(Curve.P_384).keyID("ec-2026-1").generate();
        ec2 = new ECKeyGenerator(Curve.P_384).keyID("ec-2026-2").generate();
        rsa1 = new RSAKeyGenerator(2048).keyID("rsa-2026-1").generate();
        rsa2 = new RSAKeyGenerator(2048).keyID("rsa-2026-2").generate();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            JWKSet set = published.get(path);
            if (set == null) {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            byte[] body = set.toString(true).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            if (cacheControl.containsKey(path)) {
                exchange.getResponseHeaders().add("Cache-Control", cacheControl.get(path));
            }
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private static CdsClientProperties properties(
            Duration defaultTtl,
            Duration minTtl,
            Duration maxTtl,
            Duration fileCheck,
            CdsClientProperties.Issuer... issuers) {
        return new CdsClientProperties(
                true,
                null,
                List.of("RS384", "ES384"),
                Duration.ofMinutes(15),
                Duration.ofSeconds(60),
                defaultTtl,
                minTtl,
                maxTtl,
                fileCheck,
                Duration.ofMillis(200),
                List.of(issuers));
    }

    private static CdsJwtVerifier verifier(CdsClientProperties properties) {
        SecurityStartupCheck.checkIssuers(properties.issuers());
        CdsJwtVerifier verifier = new CdsJwtVerifier(properties, new JtiReplayStore(null) {
            @Override
            public boolean firstUse(String issuer, String jti, Instant expiresAt) {
                return true;
            }
        });
        verifier.preloadKeys();
        return verifier;
    }

    private static CdsClientProperties.Issuer issuer(
            String iss, String jwksUrl, Path jwksFile, String jwks, String... allowedJku) {
        return new CdsClientProperties.Issuer(iss, jwksUrl, jwksFile, jwks, List.of(allowedJku));
    }

    /** A token as an EHR sends it: typ JWT, kid, optional jku, iss/aud/iat/exp/jti, and a tenant. */
    private static String token(String iss, JWK key, String jku) {
        try {
            boolean ec = key instanceof ECKey;
            JWSHeader.Builder header = new JWSHeader.Builder(ec ? JWSAlgorithm.ES384 : JWSAlgorithm.RS384)
                    .type(JOSEObjectType.JWT)
                    .keyID(key.getKeyID());
            if (jku != null) {
                header.jwkURL(URI.create(jku));
            }
            Instant now = Instant.now();
            JWTClaimsSet claims = new JWTClaimsSet.Builder()
                    .issuer(iss)
                    .audience(AUD)
                    .issueTime(Date.from(now))
                    .expirationTime(Date.from(now.plusSeconds(300)))
                    .jwtID(UUID.randomUUID().toString())
                    .claim("tenant", "2ddd6c3a-8e9a-44c6-a305-52111ad302a2")
                    .build();
            SignedJWT jwt = new SignedJWT(header.build(), claims);
            jwt.sign(ec ? new ECDSASigner((ECKey) key) : new RSASSASigner((RSAKey) key));
            return "Bearer " + jwt.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static CdsJwtVerifier.Reason refusal(CdsJwtVerifier verifier, String authorization) {
        try {
            verifier.verify(authorization, List.of(AUD));
            return null;
        } catch (CdsJwtVerifier.Refusal refused) {
            return refused.reason();
        }
    }

    private static JWKSet publicSet(JWK... keys) {
        List<JWK> publicKeys = new ArrayList<>();
        for (JWK key : keys) {
            publicKeys.add(key.toPublicJWK());
        }
        return new JWKSet(publicKeys);
    }

    private Path writeJwks(String name, JWK... keys) throws Exception {
        Path file = temp.resolve(name);
        Path part = temp.resolve(name + ".part");
        Files.writeString(part, publicSet(keys).toString(true));
        Files.move(
                part,
                file,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    @Test
    void aSandboxStyleTokenWithAJkuNotOnTheAllowListIsVerifiedByTheRegisteredFileAndTheJkuIsNeverFetched()
            throws Exception {
        // The sandbox signs ES384 and names its public JWKS in jku; this site registered that JWKS as a file.
        published.put("/sandbox/jwks.json", publicSet(ec1));
        Path file = writeJwks("sandbox-jwks.json", ec1);
        String iss = "https://sandbox.cds-hooks.org";
        CdsJwtVerifier verifier = verifier(properties(
                Duration.ofMinutes(5),
                Duration.ofSeconds(1),
                Duration.ofMinutes(15),
                Duration.ofSeconds(10),
                issuer(iss, null, file, null)));

        assertThat(verifier.verify(token(iss, ec1, url("/sandbox/jwks.json")), List.of(AUD))
                        .issuer())
                .isEqualTo(iss);
        assertThat(verifier.verify(token(iss, ec1, null), List.of(AUD)).tenant())
                .isEqualTo("2ddd6c3a-8e9a-44c6-a305-52111ad302a2");
        assertThat(hits.getOrDefault("/sandbox/jwks.json", new AtomicInteger()).get())
                .as("a jku not allow-listed is never fetched")
                .isZero();
        // A key the registered file does not hold is refused, wherever the jku points.
        published.put("/attacker/jwks.json", publicSet(ec2));
        assertThat(refusal(verifier, token(iss, ec2, url("/attacker/jwks.json"))))
                .isEqualTo(CdsJwtVerifier.Reason.UNKNOWN_KEY);
        assertThat(hits.getOrDefault("/attacker/jwks.json", new AtomicInteger()).get())
                .isZero();
    }

    @Test
    void anAllowListedJkuIsFetchedAndAnIssuerMayHaveOnlyAllowedJkus() {
        published.put("/ehr/jku.json", publicSet(rsa1, ec1));
        String iss = "https://ehr.example.org/jku-only";
        CdsJwtVerifier verifier = verifier(properties(
                Duration.ofMinutes(5),
                Duration.ofSeconds(1),
                Duration.ofMinutes(15),
                Duration.ofSeconds(10),
                issuer(iss, null, null, null, url("/ehr/jku.json"))));
        assertThat(hits.get("/ehr/jku.json").get())
                .as("allowed jku URLs are fetched at start-up")
                .isEqualTo(1);

        assertThat(refusal(verifier, token(iss, rsa1, url("/ehr/jku.json")))).isNull();
        assertThat(refusal(verifier, token(iss, ec1, url("/ehr/jku.json")))).isNull();
        // No registered keys: a token without jku, or with another jku, has no trusted key.
        assertThat(refusal(verifier, token(iss, rsa1, null))).isEqualTo(CdsJwtVerifier.Reason.UNKNOWN_KEY);
        published.put("/elsewhere/jwks.json", publicSet(rsa1));
        assertThat(refusal(verifier, token(iss, rsa1, url("/elsewhere/jwks.json"))))
                .isEqualTo(CdsJwtVerifier.Reason.JKU_NOT_ALLOWED);
        assertThat(hits.get("/elsewhere/jwks.json")).isNull();
    }

    @Test
    void anIssuerWithKeysAndAllowedJkusAcceptsTokensSignedByEitherAndRefusesForgeries() throws Exception {
        published.put("/epic/jwks.json", publicSet(rsa1));
        published.put("/epic/jku.json", publicSet(rsa2));
        String iss = "https://fhir.epic.example/interconnect";
        CdsJwtVerifier verifier = verifier(properties(
                Duration.ofMinutes(5),
                Duration.ofSeconds(1),
                Duration.ofMinutes(15),
                Duration.ofSeconds(10),
                issuer(iss, url("/epic/jwks.json"), null, null, url("/epic/jku.json"))));
        assertThat(refusal(verifier, token(iss, rsa1, null))).isNull();
        assertThat(refusal(verifier, token(iss, rsa2, url("/epic/jku.json")))).isNull();
        assertThat(refusal(verifier, token(iss, rsa1, url("/epic/jku.json"))))
                .as("the jku set lacks it; the registered keys verify it")
                .isNull();
        RSAKey forger = new RSAKeyGenerator(2048).keyID(rsa1.getKeyID()).generate();
        assertThat(refusal(verifier, token(iss, forger, null))).isEqualTo(CdsJwtVerifier.Reason.BAD_SIGNATURE);
        assertThat(refusal(verifier, token(iss, forger, url("/epic/jku.json"))))
                .isEqualTo(CdsJwtVerifier.Reason.BAD_SIGNATURE);
    }

    @Test
    void anInlineSetVerifiesEs384AndRs384Tokens() {
        String iss = "https://oracle-health.example/tenant-a";
        CdsJwtVerifier verifier = verifier(properties(
                Duration.ofMinutes(5),
                Duration.ofSeconds(1),
                Duration.ofMinutes(15),
                Duration.ofSeconds(10),
                issuer(iss, null, null, publicSet(ec1, rsa1).toString(true))));
        assertThat(refusal(verifier, token(iss, ec1, null))).isNull();
        assertThat(refusal(verifier, token(iss, rsa1, null))).isNull();
        assertThat(refusal(verifier, token(iss, ec2, null))).isEqualTo(CdsJwtVerifier.Reason.UNKNOWN_KEY);
        assertThat(refusal(verifier, token("https://someone.else", ec1, null)))
                .isEqualTo(CdsJwtVerifier.Reason.UNTRUSTED_ISSUER);
    }

    @Test
    void aRotatedJwksFileIsReadAgainAndARemovedKeyStopsVerifyingWithinTheCheckInterval() throws Exception {
        Path file = writeJwks("ehr-jwks.json", ec1);
        String iss = "https://ehr.example.org/file";
        CdsJwtVerifier verifier = verifier(properties(
                Duration.ofMinutes(5),
                Duration.ofSeconds(1),
                Duration.ofMinutes(15),
                Duration.ofMillis(500),
                issuer(iss, null, file, null)));
        assertThat(refusal(verifier, token(iss, ec1, null))).isNull();

        // Rotation, step 1: the new key is added; a token with its kid is accepted without waiting.
        writeJwks("ehr-jwks.json", ec1, ec2);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(refusal(verifier, token(iss, ec2, null)))
                .isNull());
        assertThat(refusal(verifier, token(iss, ec1, null))).isNull();
        // Step 2: the old key is removed and stops verifying.
        writeJwks("ehr-jwks.json", ec2);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(refusal(verifier, token(iss, ec1, null)))
                .isEqualTo(CdsJwtVerifier.Reason.UNKNOWN_KEY));
        assertThat(refusal(verifier, token(iss, ec2, null))).isNull();
    }

    @Test
    void aJwksUrlIsFetchedAgainWhenItsCacheControlMaxAgeRunsOut() {
        published.put("/epic/jwks.json", publicSet(rsa1, rsa2));
        cacheControl.put("/epic/jwks.json", "public, max-age=1");
        String iss = "https://fhir.epic.example/rotating";
        // Without a caching header the set would be held an hour: only max-age can make it expire in the test.
        CdsJwtVerifier verifier = verifier(properties(
                Duration.ofHours(1),
                Duration.ofMillis(100),
                Duration.ofHours(1),
                Duration.ofSeconds(10),
                issuer(iss, url("/epic/jwks.json"), null, null)));
        assertThat(refusal(verifier, token(iss, rsa1, null))).isNull();

        published.put("/epic/jwks.json", publicSet(rsa2));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(refusal(verifier, token(iss, rsa1, null)))
                .isEqualTo(CdsJwtVerifier.Reason.UNKNOWN_KEY));
        assertThat(refusal(verifier, token(iss, rsa2, null))).isNull();
    }

    @Test
    void aJwksUrlPromisingADayIsStillFetchedAgainWithinTheConfiguredMaximum() {
        published.put("/oracle/jwks.json", publicSet(ec1, ec2));
        cacheControl.put("/oracle/jwks.json", "max-age=86400");
        String iss = "https://authorization.oracle.example/tenants/t1";
        CdsJwtVerifier verifier = verifier(properties(
                Duration.ofHours(1),
                Duration.ofMillis(100),
                Duration.ofSeconds(1),
                Duration.ofSeconds(10),
                issuer(iss, url("/oracle/jwks.json"), null, null)));
        assertThat(refusal(verifier, token(iss, ec1, null))).isNull();

        published.put("/oracle/jwks.json", publicSet(ec2));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(refusal(verifier, token(iss, ec1, null)))
                .isEqualTo(CdsJwtVerifier.Reason.UNKNOWN_KEY));
        assertThat(refusal(verifier, token(iss, ec2, null))).isNull();
    }

    @Test
    void anAllowListedJkuRotatesLikeAnyJwksUrl() {
        published.put("/sandbox/jku.json", publicSet(ec1));
        cacheControl.put("/sandbox/jku.json", "no-cache");
        String iss = "https://sandbox.cds-hooks.org/rotating";
        CdsJwtVerifier verifier = verifier(properties(
                Duration.ofHours(1),
                Duration.ofMillis(300),
                Duration.ofHours(1),
                Duration.ofSeconds(10),
                issuer(iss, null, null, null, url("/sandbox/jku.json"))));
        assertThat(refusal(verifier, token(iss, ec1, url("/sandbox/jku.json")))).isNull();
        published.put("/sandbox/jku.json", publicSet(ec2));
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(refusal(verifier, token(iss, ec2, url("/sandbox/jku.json"))))
                        .as("a new kid is fetched")
                        .isNull());
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(refusal(verifier, token(iss, ec1, url("/sandbox/jku.json"))))
                        .isEqualTo(CdsJwtVerifier.Reason.UNKNOWN_KEY));
    }

    @Test
    void theSpecificationsExampleTokenIsCheckedWithItsExampleKeyAndAFreshOneLikeItIsAccepted() throws Exception {
        com.fasterxml.jackson.databind.JsonNode example;
        try (var in = getClass().getResourceAsStream("/cds-hooks-spec/jwt-example.json")) {
            example = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in);
        }
        String iss = example.path("payload").path("iss").asText();
        String aud = example.path("payload").path("aud").asText();
        // The example's public set registered inline; its jku (fhir-ehr.example.com) is not allow-listed, so never
        // fetched.
        CdsJwtVerifier verifier = verifier(properties(
                Duration.ofMinutes(5),
                Duration.ofSeconds(1),
                Duration.ofMinutes(15),
                Duration.ofSeconds(10),
                issuer(iss, null, null, example.path("publicJwks").toString())));
        try {
            verifier.verify("Bearer " + example.path("token").asText(), List.of(aud));
            throw new AssertionError("a token that expired in 2015 was accepted");
        } catch (CdsJwtVerifier.Refusal refused) {
            assertThat(refused.reason())
                    .as("the signature verifies; the example token is long expired")
                    .isEqualTo(CdsJwtVerifier.Reason.EXPIRED);
        }
        ECKey privateKey = ECKey.parse(example.path("privateJwk").toString());
        JWSHeader header = JWSHeader.parse(example.path("header").toString());
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(iss)
                .audience(aud)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(300)))
                .jwtID(UUID.randomUUID().toString())
                .claim("tenant", example.path("payload").path("tenant").asText())
                .build();
        SignedJWT fresh = new SignedJWT(header, claims);
        fresh.sign(new ECDSASigner(privateKey));
        assertThat(verifier.verify("Bearer " + fresh.serialize(), List.of(aud)).issuer())
                .isEqualTo(iss);
    }

    @Test
    void startUpNamesTheIssuerOfEveryBadRegistration() throws Exception {
        Path notJwks = temp.resolve("not-jwks.json");
        Files.writeString(notJwks, "{\"kty\": \"EC\"}");
        assertThatThrownBy(() -> SecurityStartupCheck.checkIssuers(List.of(issuer("https://ehr.a", null, null, null))))
                .hasMessageContaining("iss https://ehr.a")
                .hasMessageContaining("has no keys");
        assertThatThrownBy(() -> SecurityStartupCheck.checkIssuers(
                        List.of(issuer("https://ehr.b", url("/x"), temp.resolve("x.json"), null))))
                .hasMessageContaining("iss https://ehr.b")
                .hasMessageContaining("more than one way");
        assertThatThrownBy(() -> SecurityStartupCheck.checkIssuers(
                        List.of(issuer("https://ehr.c", null, temp.resolve("missing.json"), null))))
                .hasMessageContaining("iss https://ehr.c")
                .hasMessageContaining("cannot be read");
        assertThatThrownBy(
                        () -> SecurityStartupCheck.checkIssuers(List.of(issuer("https://ehr.d", null, notJwks, null))))
                .hasMessageContaining("iss https://ehr.d")
                .hasMessageContaining("is not a JWK Set");
        assertThatThrownBy(() -> SecurityStartupCheck.checkIssuers(
                        List.of(issuer("https://ehr.e", null, null, null, "ftp://ehr.e/jwks"))))
                .hasMessageContaining("iss https://ehr.e")
                .hasMessageContaining("allowed-jku");
        assertThatThrownBy(() -> SecurityStartupCheck.checkIssuers(List.of(
                        issuer("https://ehr.f", url("/a"), null, null),
                        issuer("https://ehr.f", url("/b"), null, null))))
                .hasMessageContaining("iss https://ehr.f")
                .hasMessageContaining("twice");
        assertThatThrownBy(() -> SecurityStartupCheck.checkIssuers(List.of(issuer(" ", url("/a"), null, null))))
                .hasMessageContaining("issuers[0]")
                .hasMessageContaining("has no iss");
        assertThatCode(() -> SecurityStartupCheck.checkIssuers(
                        List.of(issuer("https://ehr.g", null, null, null, url("/jku")))))
                .as("only allowed jku URLs is a valid registration")
                .doesNotThrowAnyException();
    }
}
