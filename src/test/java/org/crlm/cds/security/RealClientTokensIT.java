package org.crlm.cds.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import java.net.URI;
import java.time.Instant;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.TestKeys;
import org.junit.jupiter.api.Test;

/**
 * Tokens as real CDS clients send them, through HTTP against the running server: the CDS Hooks
 * Sandbox style (ES384, its JWKS address in jku, that address not allow-listed here, its public
 * JWKS registered as a file) is accepted on the registered file and its jku is never fetched;
 * Epic style (RS384, no jku, JWKS URL) and ES384 from the same URL; an allow-listed jku.
 */
class RealClientTokensIT extends AppIntegrationTest {

    private String url(String service) {
        return base() + "/cds-services/" + service;
    }

    private static final String CALL =
            """
            {"hook": "patient-view", "hookInstance": "%s",
             "context": {"userId": "Practitioner/example", "patientId": "crlm-demo-01"}}""";

    @Test
    void aSandboxStyleTokenWithAJkuNotOnTheAllowListIsAcceptedOnTheRegisteredFile() {
        int fetchesBefore = keys().sandboxJkuFetches.get();
        String service = url("crlm-ablation-patient-view");

        Http.Response discovery = Http.get(base() + "/cds-services", keys().sandboxJwt(base() + "/cds-services"));
        Http.Response hook =
                Http.postJson(service, CALL.formatted(java.util.UUID.randomUUID()), keys().sandboxJwt(service));

        assertThat(discovery.status()).as(discovery.body()).isEqualTo(200);
        assertThat(hook.status()).as(hook.body()).isEqualTo(200);
        assertThat(keys().sandboxJkuFetches.get())
                .as("the jku is not allow-listed: never fetched")
                .isEqualTo(fetchesBefore);
    }

    @Test
    void epicStyleRs384AndEs384TokensWithoutJkuAreAcceptedOnTheJwksUrl() {
        String service = url("crlm-ablation-patient-view");
        Instant now = Instant.now();
        assertThat(Http.postJson(
                                service,
                                CALL.formatted(java.util.UUID.randomUUID()),
                                keys().cdsJwt(
                                                JWSAlgorithm.RS384,
                                                keys().rsa.getKeyID(),
                                                TestKeys.claims(service, now, now.plusSeconds(900)),
                                                null))
                        .status())
                .isEqualTo(200);
        assertThat(Http.postJson(
                                service,
                                CALL.formatted(java.util.UUID.randomUUID()),
                                keys().cdsJwt(
                                                JWSAlgorithm.ES384,
                                                keys().ec.getKeyID(),
                                                TestKeys.claims(service, now, now.plusSeconds(300)),
                                                null))
                        .status())
                .isEqualTo(200);
    }

    @Test
    void aRegisteredKeyStillVerifiesWhenTheTokenNamesAJkuThatIsNotAllowListed() {
        String service = url("crlm-ablation-patient-view");
        Instant now = Instant.now();
        Http.Response response = Http.postJson(
                service,
                CALL.formatted(java.util.UUID.randomUUID()),
                keys().cdsJwt(
                                JWSAlgorithm.RS384,
                                keys().rsa.getKeyID(),
                                TestKeys.claims(service, now, now.plusSeconds(300)),
                                URI.create("https://ehr.unknown.example/jwks.json")));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
    }

    @Test
    void aTokenNoTrustedKeyVerifiesIsRefusedWhateverItsJkuSays() {
        String service = url("crlm-ablation-patient-view");
        Instant now = Instant.now();
        // Signed by the key an allow-listed jku publishes, but naming a jku that is not allow-listed.
        Http.Response response = Http.postJson(
                service,
                CALL.formatted(java.util.UUID.randomUUID()),
                keys().cdsJwt(
                                JWSAlgorithm.RS384,
                                "ehr-jku-1",
                                TestKeys.claims(service, now, now.plusSeconds(300)),
                                URI.create(keys().jwksBase() + "/other/jwks.json")));
        assertThat(response.status()).isEqualTo(401);
        assertThat(response.json().path("resourceType").asText()).isEqualTo("OperationOutcome");
    }
}
