package org.crlm.cds.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.TestKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The catalogue of bad input. Each case asserts the status, that the body is an
 * OperationOutcome (a bare 401 aside), and that nothing was written: no feedback row, no
 * replay entry, no change to the rules, no connection to a server that is not allow-listed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecurityCatalogueIT extends AppIntegrationTest {

    private static final String SERVICE = "crlm-ablation-patient-view";

    @Autowired
    JdbcTemplate jdbc;

    private HttpServer trap;
    private final AtomicInteger trapHits = new AtomicInteger();
    private ECKey p256;

    /** One bad input: what to send, the status it must get. */
    record Case(String name, int status, Supplier<Http.Response> send) {
        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    void setUp() throws Exception {
        trap = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        trap.createContext("/", exchange -> {
            trapHits.incrementAndGet();
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        trap.start();
        p256 = new ECKeyGenerator(Curve.P_256).keyID("ehr-ec-1").generate();
    }

    @AfterAll
    void tearDown() {
        trap.stop(0);
    }

    private String serviceUrl() {
        return base() + "/cds-services/" + SERVICE;
    }

    private static String body() {
        return CdsClient.patientViewRequest("crlm-demo-01");
    }

    private Http.Response withToken(String token) {
        return Http.postJson(serviceUrl(), body(), token);
    }

    private Http.Response withClaims(java.util.function.UnaryOperator<JWTClaimsSet.Builder> edit) {
        JWTClaimsSet.Builder claims = edit.apply(
                TestKeys.claims(serviceUrl(), Instant.now(), Instant.now().plusSeconds(300)));
        return withToken(keys().cdsJwt(JWSAlgorithm.RS384, keys().rsa.getKeyID(), claims, null));
    }

    private Http.Response valid(String body) {
        return Http.postJson(serviceUrl(), body, keys().cdsJwt(serviceUrl()));
    }

    private Http.Response withFhirServer(String fhirServer) {
        return valid(
                """
                {"hook": "patient-view", "hookInstance": "%s", "fhirServer": "%s",
                 "fhirAuthorization": {"access_token": "secret-ehr-token", "token_type": "Bearer", "expires_in": 300,
                   "scope": "patient/*.read", "subject": "crlm-cds"},
                 "context": {"userId": "Practitioner/test-surgeon", "patientId": "crlm-demo-01"}}"""
                        .formatted(UUID.randomUUID(), fhirServer));
    }

    Stream<Case> catalogue() {
        List<Case> cases = new ArrayList<>();
        Instant now = Instant.now();
        // ---- CDS client JWT: 401 ----
        cases.add(new Case("no Authorization header", 401, () -> Http.postJson(serviceUrl(), body(), null)));
        cases.add(new Case(
                "Basic instead of Bearer",
                401,
                () -> Http.send(
                        "POST",
                        serviceUrl(),
                        body(),
                        Map.of("Content-Type", "application/json", "Authorization", "Basic dXNlcjpwYXNz"))));
        cases.add(new Case("not a JWT", 401, () -> withToken("not.a.jwt")));
        cases.add(new Case("forged signature", 401, () -> {
            String token = keys().cdsJwt(serviceUrl());
            String[] parts = token.split("\\.");
            // Same header and signature, payload changed (a different jti): the signature no longer matches.
            String forgedPayload = java.util.Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(new String(java.util.Base64.getUrlDecoder().decode(parts[1]))
                            .replaceFirst("\"jti\":\"", "\"jti\":\"x")
                            .getBytes());
            return withToken(parts[0] + "." + forgedPayload + "." + parts[2]);
        }));
        cases.add(new Case(
                "signed with another key under the trusted kid",
                401,
                () -> withToken(keys().signWith(
                                keys().strangerKey,
                                new JWSHeader.Builder(JWSAlgorithm.RS384)
                                        .type(JOSEObjectType.JWT)
                                        .keyID(keys().rsa.getKeyID())
                                        .build(),
                                TestKeys.claims(serviceUrl(), now, now.plusSeconds(300))
                                        .build()))));
        cases.add(new Case(
                "expired",
                401,
                () -> withClaims(c -> c.issueTime(Date.from(now.minusSeconds(900)))
                        .expirationTime(Date.from(now.minusSeconds(600))))));
        cases.add(new Case(
                "issued in the future",
                401,
                () -> withClaims(c ->
                        c.issueTime(Date.from(now.plusSeconds(600))).expirationTime(Date.from(now.plusSeconds(800))))));
        cases.add(new Case(
                "not valid before a future nbf",
                401,
                () -> withClaims(c -> c.notBeforeTime(Date.from(now.plusSeconds(600))))));
        cases.add(new Case(
                "lifetime over the limit",
                401,
                () -> withClaims(c -> c.expirationTime(Date.from(now.plusSeconds(3600))))));
        cases.add(new Case(
                "wrong aud", 401, () -> withClaims(c -> c.audience("https://other.example/cds-services/" + SERVICE))));
        cases.add(new Case(
                "aud of the discovery endpoint", 401, () -> withClaims(c -> c.audience(base() + "/cds-services"))));
        cases.add(new Case("untrusted iss", 401, () -> withClaims(c -> c.issuer("https://evil.example"))));
        cases.add(new Case("no jti", 401, () -> withClaims(c -> c.jwtID(null))));
        cases.add(new Case("no exp", 401, () -> withClaims(c -> c.expirationTime(null))));
        cases.add(new Case(
                "alg none",
                401,
                () -> withToken(new PlainJWT(TestKeys.claims(serviceUrl(), now, now.plusSeconds(300))
                                .build())
                        .serialize())));
        cases.add(new Case("HS256 with the public key as secret", 401, () -> {
            try {
                SignedJWT jwt = new SignedJWT(
                        new JWSHeader.Builder(JWSAlgorithm.HS256)
                                .keyID(keys().rsa.getKeyID())
                                .type(JOSEObjectType.JWT)
                                .build(),
                        TestKeys.claims(serviceUrl(), now, now.plusSeconds(300)).build());
                jwt.sign(new MACSigner(keys().rsa.toRSAPublicKey().getEncoded()));
                return withToken(jwt.serialize());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }));
        cases.add(new Case("ES256 is not an accepted algorithm", 401, () -> {
            try {
                SignedJWT jwt = new SignedJWT(
                        new JWSHeader.Builder(JWSAlgorithm.ES256)
                                .keyID("ehr-ec-1")
                                .type(JOSEObjectType.JWT)
                                .build(),
                        TestKeys.claims(serviceUrl(), now, now.plusSeconds(300)).build());
                jwt.sign(new ECDSASigner(p256));
                return withToken(jwt.serialize());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }));
        cases.add(new Case(
                "unknown kid",
                401,
                () -> withToken(keys().cdsJwt(
                                JWSAlgorithm.RS384,
                                "no-such-kid",
                                TestKeys.claims(serviceUrl(), now, now.plusSeconds(300)),
                                null))));
        cases.add(new Case(
                "no kid",
                401,
                () -> withToken(keys().signWith(
                                keys().rsa,
                                new JWSHeader.Builder(JWSAlgorithm.RS384)
                                        .type(JOSEObjectType.JWT)
                                        .build(),
                                TestKeys.claims(serviceUrl(), now, now.plusSeconds(300))
                                        .build()))));
        cases.add(new Case(
                "typ other than JWT",
                401,
                () -> withToken(keys().signWith(
                                keys().rsa,
                                new JWSHeader.Builder(JWSAlgorithm.RS384)
                                        .type(new JOSEObjectType("at+jwt"))
                                        .keyID(keys().rsa.getKeyID())
                                        .build(),
                                TestKeys.claims(serviceUrl(), now, now.plusSeconds(300))
                                        .build()))));
        cases.add(new Case(
                "jku not allow-listed",
                401,
                () -> withToken(keys().cdsJwt(
                                JWSAlgorithm.RS384,
                                "ehr-jku-1",
                                TestKeys.claims(serviceUrl(), now, now.plusSeconds(300)),
                                URI.create(keys().jwksBase() + "/other/jwks.json")))));
        cases.add(new Case(
                "jku allow-listed but redirecting",
                401,
                () -> withToken(keys().cdsJwt(
                                JWSAlgorithm.RS384,
                                "ehr-jku-1",
                                TestKeys.claims(serviceUrl(), now, now.plusSeconds(300)),
                                URI.create(keys().jwksBase() + "/redirect/jwks.json")))));
        cases.add(new Case(
                "feedback with a forged token stores nothing",
                401,
                () -> Http.postJson(
                        serviceUrl() + "/feedback",
                        "{\"feedback\": []}",
                        keys().signWith(
                                        keys().strangerKey,
                                        new JWSHeader.Builder(JWSAlgorithm.RS384)
                                                .type(JOSEObjectType.JWT)
                                                .keyID(keys().rsa.getKeyID())
                                                .build(),
                                        TestKeys.claims(serviceUrl() + "/feedback", now, now.plusSeconds(300))
                                                .build()))));
        // ---- fhirServer: 412, no connection ----
        cases.add(new Case(
                "fhirServer not on the allow-list", 412, () -> withFhirServer("https://ehr.unknown.example/fhir")));
        cases.add(new Case(
                "fhirServer over plain http (not listed)", 412, () -> withFhirServer("http://ehr.example.org/fhir")));
        cases.add(new Case(
                "fhirServer at the cloud metadata address",
                412,
                () -> withFhirServer("http://169.254.169.254/latest")));
        cases.add(new Case("fhirServer on a private address", 412, () -> withFhirServer("https://10.0.0.5/fhir")));
        cases.add(new Case(
                "fhirServer on loopback, not listed, listening",
                412,
                () -> withFhirServer("http://127.0.0.1:" + trap.getAddress().getPort() + "/fhir")));
        cases.add(new Case("fhirServer with a file: URL", 412, () -> withFhirServer("file:///etc/passwd")));
        cases.add(new Case(
                "fhirServer with user info", 412, () -> withFhirServer("https://user:pass@ehr.example.org/fhir")));
        cases.add(new Case(
                "allow-listed fhirServer that redirects",
                412,
                () -> withFhirServer(keys().jwksBase() + "/redirecting-fhir")));
        // ---- bodies: 400 / 413 / 415 ----
        cases.add(new Case("malformed JSON", 400, () -> valid("{\"hook\": ")));
        cases.add(new Case("JSON array instead of an object", 400, () -> valid("[1, 2, 3]")));
        cases.add(new Case("empty body", 400, () -> valid("")));
        cases.add(
                new Case(
                        "missing hookInstance",
                        400,
                        () -> valid(
                                "{\"hook\": \"patient-view\", \"context\": {\"userId\": \"Practitioner/x\", \"patientId\": \"crlm-demo-01\"}}")));
        cases.add(
                new Case(
                        "wrong type: context.patientId a number",
                        400,
                        () -> valid(
                                "{\"hook\": \"patient-view\", \"hookInstance\": \"a-b-c-d\", \"context\": {\"userId\": \"Practitioner/x\", \"patientId\": 7}}")));
        cases.add(new Case(
                "wrong type: hook an object",
                400,
                () -> valid("{\"hook\": {}, \"hookInstance\": \"a-b-c-d\", \"context\": {}}")));
        cases.add(
                new Case(
                        "fhirAuthorization without fhirServer",
                        400,
                        () -> valid(
                                """
                {"hook": "patient-view", "hookInstance": "a-b-c-d", "fhirAuthorization": {"access_token": "t", "token_type": "Bearer",
                 "expires_in": 300, "scope": "patient/*.read", "subject": "x"},
                 "context": {"userId": "Practitioner/x", "patientId": "crlm-demo-01"}}""")));
        cases.add(
                new Case(
                        "patient id with path characters",
                        400,
                        () -> valid(
                                "{\"hook\": \"patient-view\", \"hookInstance\": \"a-b-c-d\", \"context\": {\"userId\": \"Practitioner/x\", \"patientId\": \"../Patient/x\"}}")));
        cases.add(new Case(
                "huge body",
                413,
                () -> valid("{\"hook\": \"patient-view\", \"pad\": \"" + "x".repeat(6 * 1024 * 1024) + "\"}")));
        cases.add(new Case("deep nesting", 400, () -> valid("[".repeat(200) + "]".repeat(200))));
        cases.add(new Case("too many JSON values", 413, () -> valid("{\"pad\": [" + "0,".repeat(250_000) + "0]}")));
        cases.add(new Case(
                "XML content type",
                415,
                () -> Http.send(
                        "POST",
                        serviceUrl(),
                        "<hook>patient-view</hook>",
                        Map.of(
                                "Content-Type",
                                "application/xml",
                                "Authorization",
                                "Bearer " + keys().cdsJwt(serviceUrl())))));
        cases.add(new Case(
                "no content type",
                415,
                () -> Http.send(
                        "POST",
                        serviceUrl(),
                        body(),
                        Map.of("Authorization", "Bearer " + keys().cdsJwt(serviceUrl())))));
        cases.add(new Case("unknown service", 404, () -> {
            String url = base() + "/cds-services/nope";
            return Http.postJson(url, body(), keys().cdsJwt(url));
        }));
        // ---- FHIR API ----
        cases.add(new Case(
                "FHIR write without a token",
                401,
                () -> Http.send(
                        "POST",
                        base() + "/fhir/Patient",
                        "{\"resourceType\": \"Patient\"}",
                        Map.of("Content-Type", "application/fhir+json"))));
        cases.add(new Case(
                "FHIR write with a read-only token",
                403,
                () -> Http.send(
                        "POST",
                        base() + "/fhir/Patient",
                        "{\"resourceType\": \"Patient\"}",
                        Map.of(
                                "Content-Type",
                                "application/fhir+json",
                                "Authorization",
                                "Bearer " + keys().fhirToken("user/*.read")))));
        cases.add(new Case(
                "FHIR token from an untrusted key",
                401,
                () -> Http.send(
                        "GET",
                        base() + "/fhir/Patient/crlm-demo-01",
                        null,
                        Map.of("Authorization", "Bearer " + keys().cdsJwt(base() + "/fhir")))));
        cases.add(new Case(
                "XML with an external entity",
                400,
                () -> Http.send(
                        "POST",
                        base() + "/fhir/Patient",
                        "<?xml version=\"1.0\"?><!DOCTYPE Patient [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                                + "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"&xxe;\"/></name></Patient>",
                        Map.of(
                                "Content-Type",
                                "application/fhir+xml",
                                "Accept",
                                "application/fhir+json",
                                "Authorization",
                                "Bearer " + keys().fhirToken("user/*.write")))));
        cases.add(new Case(
                "Library write without the authoring scope",
                403,
                () -> Http.send(
                        "PUT",
                        base() + "/fhir/Library/CRLMAblationRules",
                        "{\"resourceType\": \"Library\", \"id\": \"CRLMAblationRules\", \"status\": \"active\", \"type\": {\"text\": \"x\"}}",
                        Map.of(
                                "Content-Type",
                                "application/fhir+json",
                                "Authorization",
                                "Bearer " + keys().fhirToken("user/*.write")))));
        cases.add(new Case(
                "broken CQL publish",
                422,
                () -> Http.send(
                        "PUT",
                        base() + "/fhir/Library/CRLMAblationRules",
                        """
                {"resourceType": "Library", "id": "CRLMAblationRules", "url": "http://crlm-cds.org/fhir/Library/CRLMAblationRules",
                 "name": "CRLMAblationRules", "version": "9.9.9", "status": "active", "type": {"coding": [{"system":
                 "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}]},
                 "content": [{"contentType": "text/cql", "data": "%s"}]}"""
                                .formatted(java.util.Base64.getEncoder()
                                        .encodeToString(
                                                "library CRLMAblationRules version '9.9.9'\nusing FHIR version '4.0.1'\ndefine \"R1 Applies\": 1 +"
                                                        .getBytes())),
                        Map.of(
                                "Content-Type",
                                "application/fhir+json",
                                "Authorization",
                                "Bearer " + keys().fhirToken(TestKeys.AUTHORING_SCOPE)))));
        return cases.stream();
    }

    @Test
    void theCatalogueHasAtLeastFortyBadInputs() {
        assertThat(catalogue().count()).isGreaterThanOrEqualTo(40);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalogue")
    void isRefusedAndChangesNothing(Case bad) {
        long feedback = count("cds_feedback");
        long replays = count("cds_jwt_replay");
        String rules = Http.get(base() + "/fhir/Library/CRLMAblationRules", keys().fhirToken("user/*.read"))
                .json()
                .path("version")
                .asText();
        int hits = trapHits.get();

        Http.Response response = bad.send().get();

        assertThat(response.status()).as(bad.name() + ": " + response.body()).isEqualTo(bad.status());
        if (bad.status() != 401) {
            JsonNode outcome = response.json();
            assertThat(outcome.path("resourceType").asText()).as(bad.name()).isEqualTo("OperationOutcome");
            assertThat(outcome.path("issue").get(0).path("severity").asText()).isIn("error", "fatal");
        } else {
            assertThat(response.body()).doesNotContain("expired", "signature", "kid", "aud");
        }
        assertThat(response.body()).doesNotContain("Exception", "\tat ", "root:", "secret-ehr-token");
        assertThat(count("cds_feedback")).as("no feedback stored").isEqualTo(feedback);
        long expectedReplays = bad.status() == 401 ? replays : replays + 1; // an accepted token is remembered once
        assertThat(count("cds_jwt_replay")).as("replay entries").isLessThanOrEqualTo(expectedReplays);
        if (bad.status() == 401) {
            assertThat(count("cds_jwt_replay"))
                    .as("no replay entry for a refused token")
                    .isEqualTo(replays);
        }
        assertThat(Http.get(base() + "/fhir/Library/CRLMAblationRules", keys().fhirToken("user/*.read"))
                        .json()
                        .path("version")
                        .asText())
                .as("rules unchanged")
                .isEqualTo(rules);
        assertThat(trapHits.get())
                .as("no connection to a server that is not allow-listed")
                .isEqualTo(hits);
    }

    @Test
    void aReplayedTokenIsRefusedTheSecondTime() {
        String token = keys().cdsJwt(serviceUrl());
        assertThat(withToken(token).status()).isEqualTo(200);
        long replays = count("cds_jwt_replay");
        assertThat(withToken(token).status()).isEqualTo(401);
        assertThat(count("cds_jwt_replay")).isEqualTo(replays);
    }

    @Test
    void validTokensAreAcceptedForEveryEndpointAndAlgorithm() {
        assertThat(Http.get(base() + "/cds-services", keys().cdsJwt(base() + "/cds-services"))
                        .status())
                .isEqualTo(200);
        assertThat(withToken(keys().cdsJwt(
                                        JWSAlgorithm.ES384,
                                        keys().ec.getKeyID(),
                                        TestKeys.claims(
                                                serviceUrl(),
                                                Instant.now(),
                                                Instant.now().plusSeconds(300)),
                                        null))
                        .status())
                .isEqualTo(200);
        assertThat(withToken(keys().cdsJwt(
                                        JWSAlgorithm.RS384,
                                        "ehr-jku-1",
                                        TestKeys.claims(
                                                serviceUrl(),
                                                Instant.now(),
                                                Instant.now().plusSeconds(300)),
                                        URI.create(keys().jwksBase() + "/ehr/jku-jwks.json")))
                        .status())
                .isEqualTo(200);
        // Epic-style 15-minute token with a little clock skew.
        assertThat(withClaims(c -> c.issueTime(Date.from(Instant.now().plusSeconds(30)))
                                .expirationTime(Date.from(Instant.now().plusSeconds(30 + 900))))
                        .status())
                .isEqualTo(200);
    }

    private long count(String table) {
        return jdbc.queryForObject("select count(*) from " + table, Long.class);
    }
}
