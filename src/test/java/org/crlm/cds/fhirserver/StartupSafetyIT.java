package org.crlm.cds.fhirserver;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.CrlmCdsApplication;
import org.crlm.cds.support.DirectoryCopy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;

/**
 * Configurations that must not start, and fail in seconds saying why: a malformed file in
 * fhir-resources/, and every unsafe security setting.
 */
class StartupSafetyIT {

    @TempDir
    Path temp;

    /** Starts with these settings as command-line arguments (they win over application.yaml). */
    private static void start(String profile, String... properties) {
        List<String> args = new ArrayList<>(List.of(
                "--server.port=0",
                "--spring.main.banner-mode=off",
                "--crlm.data-dir=" + System.getProperty("java.io.tmpdir") + "/crlm-startup-safety"));
        for (String p : properties) {
            args.add("--" + p);
        }
        new SpringApplicationBuilder(CrlmCdsApplication.class)
                .profiles(profile)
                .run(args.toArray(String[]::new))
                .close();
    }

    @Test
    void aMalformedResourceFileStopsStartUpNamingTheFile() throws IOException {
        Path resources = temp.resolve("fhir-resources");
        DirectoryCopy.copy(Path.of("fhir-resources"), resources);
        Files.writeString(
                resources.resolve("terminology").resolve("ValueSet-broken.json"),
                "{\"resourceType\": \"ValueSet\", \"id\": \"broken\", \"status\": \"active\", \"compose\": ");
        assertThatThrownBy(() -> start("demo", "crlm.knowledge.resources-dir=" + resources))
                .hasStackTraceContaining("ValueSet-broken.json");
    }

    @Test
    void aResourceWithAnUnknownElementStopsStartUpNamingTheFile() throws IOException {
        Path resources = temp.resolve("fhir-resources");
        DirectoryCopy.copy(Path.of("fhir-resources"), resources);
        Files.writeString(
                resources.resolve("rules").resolve("PlanDefinition-typo.json"),
                "{\"resourceType\": \"PlanDefinition\", \"id\": \"typo\", \"status\": \"active\", \"titel\": \"Typo\"}");
        assertThatThrownBy(() -> start("demo", "crlm.knowledge.resources-dir=" + resources))
                .hasStackTraceContaining("PlanDefinition-typo.json");
    }

    @Test
    void aMistypedResourceTypeStopsStartUpNamingIt() {
        assertThatThrownBy(() -> start("demo", "crlm.fhir.resource-types=Patient,Obsrvation"))
                .hasStackTraceContaining("crlm.fhir.resource-types names types HAPI does not store: [Obsrvation]");
    }

    @Test
    void aCqlFileWithoutAVersionStopsStartUpNamingTheFile() throws IOException {
        Path cql = temp.resolve("cql");
        DirectoryCopy.copy(Path.of("cql"), cql);
        Files.writeString(cql.resolve("Unversioned.cql"), "library Unversioned\nusing FHIR version '4.0.1'\n");
        assertThatThrownBy(() -> start("demo", "crlm.knowledge.cql-dir=" + cql))
                .hasStackTraceContaining("Unversioned.cql");
    }

    @Test
    void outsideTheDemoProfileNoTrustedIssuerMeansNoStart() {
        assertThatThrownBy(() -> start(
                        "prod", "spring.security.oauth2.resourceserver.jwt.jwk-set-uri=https://auth.example/jwks"))
                .hasStackTraceContaining("no trusted CDS client issuers");
    }

    @Test
    void anIssuerRegisteredWithoutKeysStopsStartUpNamingTheIssuer() {
        assertThatThrownBy(() -> start(
                        "prod",
                        "crlm.security.cds-client.issuers[0].iss=https://ehr.example/no-keys",
                        "spring.security.oauth2.resourceserver.jwt.jwk-set-uri=https://auth.example/jwks"))
                .hasStackTraceContaining("iss https://ehr.example/no-keys")
                .hasStackTraceContaining("has no keys");
    }

    @Test
    void anIssuerWhoseJwksFileIsMissingStopsStartUpNamingTheIssuer() {
        assertThatThrownBy(() -> start(
                        "prod",
                        "crlm.security.cds-client.issuers[0].iss=https://ehr.example/file",
                        "crlm.security.cds-client.issuers[0].jwks-file=" + temp.resolve("absent-jwks.json"),
                        "spring.security.oauth2.resourceserver.jwt.jwk-set-uri=https://auth.example/jwks"))
                .hasStackTraceContaining("iss https://ehr.example/file")
                .hasStackTraceContaining("cannot be read");
    }

    @Test
    void outsideTheDemoProfileJwtChecksCannotBeSwitchedOff() {
        assertThatThrownBy(() -> start(
                        "prod",
                        "crlm.security.cds-client.enabled=false",
                        "crlm.security.cds-client.issuers[0].iss=https://ehr.example",
                        "crlm.security.cds-client.issuers[0].jwks-url=https://ehr.example/jwks",
                        "spring.security.oauth2.resourceserver.jwt.jwk-set-uri=https://auth.example/jwks"))
                .hasStackTraceContaining("only allowed in the demo profile");
    }

    @Test
    void outsideTheDemoProfileTheFhirApiNeedsATokenIssuer() {
        assertThatThrownBy(() -> start(
                        "prod",
                        "crlm.security.cds-client.issuers[0].iss=https://ehr.example",
                        "crlm.security.cds-client.issuers[0].jwks-url=https://ehr.example/jwks"))
                .hasStackTraceContaining("needs an OAuth2 token issuer");
    }

    @Test
    void outsideTheDemoProfileTheFhirApiNeedsTheTokenAudience() {
        assertThatThrownBy(() -> start(
                        "prod",
                        "crlm.security.cds-client.issuers[0].iss=https://ehr.example",
                        "crlm.security.cds-client.issuers[0].jwks-url=https://ehr.example/jwks",
                        "spring.security.oauth2.resourceserver.jwt.issuer-uri=https://auth.example",
                        "spring.security.oauth2.resourceserver.jwt.jwk-set-uri=https://auth.example/jwks"))
                .hasStackTraceContaining("needs the exact token issuer and its audience");
    }

    private static final String[] SAFE_OUTSIDE_DEMO = {
        "crlm.security.cds-client.issuers[0].iss=https://ehr.example",
        "crlm.security.cds-client.issuers[0].jwks-url=https://ehr.example/jwks",
        "spring.security.oauth2.resourceserver.jwt.issuer-uri=https://auth.example",
        "spring.security.oauth2.resourceserver.jwt.audiences[0]=https://cds.example/fhir"
    };

    @Test
    void outsideTheDemoProfileAnyBrowserOriginIsRefused() {
        List<String> properties = new ArrayList<>(List.of(SAFE_OUTSIDE_DEMO));
        properties.add("crlm.security.cors.allowed-origins[0]=*");
        properties.add("crlm.fhir.public-base-url=https://cds.example/fhir");
        assertThatThrownBy(() -> start("prod", properties.toArray(String[]::new)))
                .hasStackTraceContaining("allowed-origins=* is only allowed in the demo profile");
    }

    @Test
    void outsideTheDemoProfileLinksNeedAFixedPublicBaseUrl() {
        assertThatThrownBy(() -> start("prod", SAFE_OUTSIDE_DEMO))
                .hasStackTraceContaining("public base URL is not set");
    }

    @Test
    void theUnauthenticatedDemoMustListenOnLoopbackOnly() {
        assertThatThrownBy(() -> start("demo", "server.address=0.0.0.0"))
                .hasStackTraceContaining("must listen on 127.0.0.1 only");
    }
}
