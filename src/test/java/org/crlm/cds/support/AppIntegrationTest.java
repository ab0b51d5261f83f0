package org.crlm.cds.support;

import java.nio.file.Path;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of the tests that run against the one shared application context: the real HAPI JPA
 * server on an embedded H2 file, the real rules, real HTTP on a fixed free port, CDS client
 * JWTs and FHIR API tokens checked with keys generated for this run. Every subclass has the
 * same configuration, so Spring starts it once and caches it.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
@ActiveProfiles("test")
// Export metrics as in production (Spring Boot tests switch Prometheus off by default).
@org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability(tracing = false)
public abstract class AppIntegrationTest {

    public static final Path DATA_DIR = Path.of(
                    "target", "test-data", "main-" + ProcessHandle.current().pid())
            .toAbsolutePath();
    /** A copy of cql/ (libraries and scenarios) that the dev-mode watcher of this context watches (tests edit it, never the real one). */
    public static final Path CQL_DIR =
            copyOfCql(DATA_DIR.resolveSibling("cql-" + ProcessHandle.current().pid()));

    private static Path copyOfCql(Path target) {
        try {
            java.nio.file.Files.createDirectories(target);
            try (var files = java.nio.file.Files.list(Path.of("cql"))) {
                for (Path f : files.filter(f -> f.toString().endsWith(".cql")).toList()) {
                    java.nio.file.Files.copy(
                            f, target.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
            // The scenario store the publish gate runs (crlm.knowledge.cql-dir/tests).
            Path tests = java.nio.file.Files.createDirectories(target.resolve("tests"));
            try (var files = java.nio.file.Files.list(Path.of("cql", "tests"))) {
                for (Path f : files.toList()) {
                    java.nio.file.Files.copy(
                            f, tests.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return target;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestKeys keys = TestKeys.get();
        registry.add("server.port", () -> keys.appPort);
        registry.add("crlm.data-dir", DATA_DIR::toString);
        registry.add("crlm.knowledge.cql-dir", CQL_DIR::toString);
        registry.add("crlm.authoring.dev-mode", () -> "true");
        registry.add("crlm.authoring.poll-interval", () -> "300ms");
        registry.add("crlm.security.cds-client.issuers[0].iss", () -> TestKeys.CDS_ISSUER);
        registry.add("crlm.security.cds-client.issuers[0].jwks-url", () -> keys.jwksBase() + "/ehr/jwks.json");
        registry.add(
                "crlm.security.cds-client.issuers[0].allowed-jku[0]", () -> keys.jwksBase() + "/ehr/jku-jwks.json");
        registry.add(
                "crlm.security.cds-client.issuers[0].allowed-jku[1]", () -> keys.jwksBase() + "/redirect/jwks.json");
        // A sandbox-style client: keys registered as a file, tokens naming a jku that is not allow-listed.
        registry.add("crlm.security.cds-client.issuers[1].iss", () -> TestKeys.SANDBOX_ISSUER);
        registry.add("crlm.security.cds-client.issuers[1].jwks-file", keys.sandboxJwksFile::toString);
        registry.add(
                "spring.security.oauth2.resourceserver.jwt.jwk-set-uri", () -> keys.jwksBase() + "/auth/jwks.json");
        registry.add("spring.security.oauth2.resourceserver.jwt.issuer-uri", () -> TestKeys.FHIR_ISSUER);
        registry.add("spring.security.oauth2.resourceserver.jwt.audiences[0]", () -> TestKeys.FHIR_AUDIENCE);
        registry.add("crlm.security.outbound.allowed-fhir-servers[0]", () -> keys.appBase() + "/fhir");
        registry.add("crlm.fhir.public-base-url", () -> keys.appBase() + "/fhir");
        registry.add("crlm.security.outbound.allowed-fhir-servers[1]", () -> keys.jwksBase() + "/redirecting-fhir");
        // SMART App Launch: the EHR's authorization server (run in the test) and the planning view's address.
        registry.add(
                "crlm.security.fhir-api.authorize-endpoint",
                () -> SmartAuthorizationServer.get().base() + "/authorize");
        registry.add(
                "crlm.security.fhir-api.token-endpoint",
                () -> SmartAuthorizationServer.get().base() + "/token");
        registry.add("crlm.cds.planning-view-url", () -> keys.appBase() + "/smart/launch.html");
    }

    protected TestKeys keys() {
        return TestKeys.get();
    }

    protected String base() {
        return TestKeys.get().appBase();
    }
}
