package org.crlm.cds.support;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.UUID;

/**
 * Keys generated for this test run (RSA and EC for the CDS client issuer, RSA for the FHIR
 * API's OAuth server) and a JWKS server on loopback that publishes them. One instance per
 * JVM, so every Spring test context gets the same configuration and is cached once.
 */
public final class TestKeys {

    public static final String CDS_ISSUER = "https://ehr.test.example/cds-client";
    public static final String FHIR_ISSUER = "https://auth.test.example";
    public static final String SANDBOX_ISSUER = "https://sandbox.test.example";
    public static final String AUTHORING_SCOPE = "crlm/rules.write";
    public static final String ADMIN_SCOPE = "crlm/fhir.admin";
    public static final String METRICS_SCOPE = "crlm/metrics.read";
    /** The audience the FHIR API accepts (crlm tokens name it in aud). */
    public static final String FHIR_AUDIENCE = "https://cds.test.example/fhir";

    private static final TestKeys INSTANCE = new TestKeys();

    public final RSAKey rsa;
    public final ECKey ec;
    public final RSAKey jkuKey;
    public final RSAKey fhirApiKey;
    public final RSAKey strangerKey;
    /** A CDS Hooks Sandbox-style client: ES384, its public JWKS registered here as a file, its tokens naming a jku. */
    public final ECKey sandboxKey;

    public final java.nio.file.Path sandboxJwksFile;
    /** How often the sandbox's published JWKS was fetched (it must never be: its jku is not allow-listed). */
    public final java.util.concurrent.atomic.AtomicInteger sandboxJkuFetches =
            new java.util.concurrent.atomic.AtomicInteger();

    private final HttpServer jwksServer;
    public final int jwksPort;
    public final int appPort;

    private TestKeys() {
        try {
            rsa = new RSAKeyGenerator(2048).keyID("ehr-rsa-1").generate();
            ec = new ECKeyGenerator(Curve.P_384).keyID("ehr-ec-1").generate();
            jkuKey = new RSAKeyGenerator(2048).keyID("ehr-jku-1").generate();
            fhirApiKey = new RSAKeyGenerator(2048).keyID("fhir-api-1").generate();
            strangerKey = new RSAKeyGenerator(2048).keyID("ehr-rsa-1").generate();
            sandboxKey =
                    new ECKeyGenerator(Curve.P_384).keyID("sandbox-es384-1").generate();
            sandboxJwksFile = java.nio.file.Path.of(
                            "target",
                            "test-data",
                            "sandbox-jwks-" + ProcessHandle.current().pid() + ".json")
                    .toAbsolutePath();
            java.nio.file.Files.createDirectories(sandboxJwksFile.getParent());
            java.nio.file.Files.writeString(sandboxJwksFile, new JWKSet(sandboxKey.toPublicJWK()).toString(true));
            jwksServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            publish("/ehr/jwks.json", new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK())));
            publish("/ehr/jku-jwks.json", new JWKSet(List.of(jkuKey.toPublicJWK())));
            publish("/other/jwks.json", new JWKSet(List.of(strangerKey.toPublicJWK())));
            publish("/auth/jwks.json", new JWKSet(List.of(fhirApiKey.toPublicJWK())));
            byte[] sandboxSet =
                    new JWKSet(sandboxKey.toPublicJWK()).toString(true).getBytes(StandardCharsets.UTF_8);
            jwksServer.createContext("/sandbox/.well-known/jwks.json", exchange -> {
                sandboxJkuFetches.incrementAndGet();
                exchange.sendResponseHeaders(200, sandboxSet.length);
                exchange.getResponseBody().write(sandboxSet);
                exchange.close();
            });
            jwksServer.createContext("/redirect/jwks.json", exchange -> {
                exchange.getResponseHeaders().add("Location", jwksBase() + "/ehr/jku-jwks.json");
                exchange.sendResponseHeaders(302, -1);
                exchange.close();
            });
            // An allow-listed "FHIR server" that redirects everything: redirects must not be followed.
            jwksServer.createContext("/redirecting-fhir", exchange -> {
                exchange.getResponseHeaders().add("Location", "http://169.254.169.254/latest/meta-data/");
                exchange.sendResponseHeaders(302, -1);
                exchange.close();
            });
            jwksServer.start();
            jwksPort = jwksServer.getAddress().getPort();
            appPort = freePort();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static TestKeys get() {
        return INSTANCE;
    }

    /** How often each JWKS was downloaded (to show that unknown kids do not trigger a download each). */
    public final java.util.Map<String, java.util.concurrent.atomic.AtomicInteger> downloads =
            new java.util.concurrent.ConcurrentHashMap<>();

    private void publish(String path, JWKSet set) {
        byte[] body = set.toString(true).getBytes(StandardCharsets.UTF_8);
        jwksServer.createContext(path, exchange -> {
            downloads
                    .computeIfAbsent(path, p -> new java.util.concurrent.atomic.AtomicInteger())
                    .incrementAndGet();
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
    }

    public String jwksBase() {
        return "http://127.0.0.1:" + jwksPort;
    }

    public String appBase() {
        return "http://127.0.0.1:" + appPort;
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A valid CDS client JWT for the URL called. */
    public String cdsJwt(String audience) {
        return cdsJwt(
                JWSAlgorithm.RS384,
                rsa.getKeyID(),
                claims(audience, Instant.now(), Instant.now().plusSeconds(300)),
                null);
    }

    public static JWTClaimsSet.Builder claims(String audience, Instant iat, Instant exp) {
        return new JWTClaimsSet.Builder()
                .issuer(CDS_ISSUER)
                .audience(audience)
                .issueTime(Date.from(iat))
                .expirationTime(Date.from(exp))
                .jwtID(UUID.randomUUID().toString());
    }

    public String cdsJwt(JWSAlgorithm alg, String kid, JWTClaimsSet.Builder claims, java.net.URI jku) {
        try {
            JWSHeader.Builder header =
                    new JWSHeader.Builder(alg).type(JOSEObjectType.JWT).keyID(kid);
            if (jku != null) {
                header.jwkURL(jku);
            }
            JWSSigner signer = alg.getName().startsWith("ES")
                    ? new ECDSASigner(ec)
                    : new RSASSASigner("ehr-jku-1".equals(kid) ? jkuKey : rsa);
            SignedJWT jwt = new SignedJWT(header.build(), claims.build());
            jwt.sign(signer);
            return jwt.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A token as the CDS Hooks Sandbox sends it: ES384, kid, and its JWKS address in jku. */
    public String sandboxJwt(String audience) {
        try {
            JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES384)
                    .type(JOSEObjectType.JWT)
                    .keyID(sandboxKey.getKeyID())
                    .jwkURL(java.net.URI.create(jwksBase() + "/sandbox/.well-known/jwks.json"))
                    .build();
            JWTClaimsSet claims = new JWTClaimsSet.Builder()
                    .issuer(SANDBOX_ISSUER)
                    .audience(audience)
                    .issueTime(new Date())
                    .expirationTime(Date.from(Instant.now().plusSeconds(300)))
                    .jwtID(UUID.randomUUID().toString())
                    .build();
            SignedJWT jwt = new SignedJWT(header, claims);
            jwt.sign(new ECDSASigner(sandboxKey));
            return jwt.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public String signWith(RSAKey key, JWSHeader header, JWTClaimsSet claims) {
        try {
            SignedJWT jwt = new SignedJWT(header, claims);
            jwt.sign(new RSASSASigner(key));
            return jwt.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** An OAuth2 access token for the FHIR API with these scopes (user or system context). */
    public String fhirToken(String... scopes) {
        return fhirToken(c -> c, scopes);
    }

    /** A SMART patient-launch token: {@code patient/} scopes held to this patient's compartment. */
    public String fhirPatientToken(String patientId, String... scopes) {
        return fhirToken(c -> c.claim("patient", patientId), scopes);
    }

    /** A FHIR API token with these scopes whose claims a test edits (to drop aud, exp, change iss...). */
    public String fhirToken(java.util.function.UnaryOperator<JWTClaimsSet.Builder> edit, String... scopes) {
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .issuer(FHIR_ISSUER)
                .subject("test-user")
                .audience(FHIR_AUDIENCE)
                .claim("scope", String.join(" ", scopes))
                .issueTime(new Date())
                .expirationTime(Date.from(Instant.now().plusSeconds(600)))
                .jwtID(UUID.randomUUID().toString());
        return signWith(
                fhirApiKey,
                new JWSHeader.Builder(JWSAlgorithm.RS256)
                        .keyID(fhirApiKey.getKeyID())
                        .type(JOSEObjectType.JWT)
                        .build(),
                edit.apply(claims).build());
    }
}
