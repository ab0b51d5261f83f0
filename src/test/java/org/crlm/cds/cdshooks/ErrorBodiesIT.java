package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.Http;
import org.junit.jupiter.api.Test;

/**
 * Everything an HTTP client gets on error is an OperationOutcome, including what the router
 * answers (no such path, wrong method); a base URL with a trailing slash still finds discovery;
 * discovery and the 400 for resources of another FHIR version say the service speaks FHIR R4.
 */
class ErrorBodiesIT extends AppIntegrationTest {

    private Http.Response authenticated(String method, String path, String body, String contentType) {
        String url = base() + path;
        return Http.send(
                method,
                url,
                body,
                contentType == null
                        ? Map.of("Authorization", "Bearer " + keys().cdsJwt(url))
                        : Map.of("Authorization", "Bearer " + keys().cdsJwt(url), "Content-Type", contentType));
    }

    private static void assertOperationOutcome(Http.Response response, int status, String code) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        assertThat(response.header("Content-Type")).startsWith("application/json");
        JsonNode body = response.json();
        assertThat(body.path("resourceType").asText()).isEqualTo("OperationOutcome");
        assertThat(body.path("issue").get(0).path("severity").asText()).isEqualTo("error");
        assertThat(body.path("issue").get(0).path("code").asText()).isEqualTo(code);
        assertThat(body.path("issue").get(0).path("diagnostics").asText()).isNotBlank();
        assertThat(response.body())
                .doesNotContain("Exception")
                .doesNotContain("\"timestamp\"")
                .doesNotContain("\"path\"");
    }

    @Test
    void aWrongMethodIs405AsAnOperationOutcome() {
        assertOperationOutcome(authenticated("PUT", "/cds-services", "{}", "application/json"), 405, "not-supported");
        assertOperationOutcome(
                authenticated("DELETE", "/cds-services/crlm-ablation-patient-view", null, null), 405, "not-supported");
        assertOperationOutcome(
                authenticated("GET", "/cds-services/crlm-ablation-patient-view", null, null), 405, "not-supported");
        assertOperationOutcome(
                authenticated("GET", "/cds-services/crlm-ablation-patient-view/feedback", null, null),
                405,
                "not-supported");
    }

    @Test
    void aPathNoRouteKnowsIs404AsAnOperationOutcome() {
        assertOperationOutcome(
                authenticated("POST", "/cds-services/crlm-ablation-patient-view/extra/parts", "{}", "application/json"),
                404,
                "not-found");
        assertOperationOutcome(Http.get(base() + "/no-such-endpoint", null), 404, "not-found");
        assertOperationOutcome(
                authenticated("POST", "/cds-services/no-such-service", "{}", "application/json"), 404, "not-found");
    }

    @Test
    void aNonJsonAcceptHeaderOrBodyIsAnOperationOutcome() {
        String url = base() + "/cds-services";
        assertOperationOutcome(
                Http.send(
                        "GET",
                        url,
                        null,
                        Map.of("Authorization", "Bearer " + keys().cdsJwt(url), "Accept", "text/html")),
                406,
                "not-supported");
        assertOperationOutcome(
                authenticated("POST", "/cds-services/crlm-ablation-patient-view", "hook=patient-view", "text/plain"),
                415,
                "not-supported");
    }

    @Test
    void discoveryAnswersWithATrailingSlashToo() {
        Http.Response plain = authenticated("GET", "/cds-services", null, null);
        Http.Response slash = authenticated("GET", "/cds-services/", null, null);
        assertThat(slash.status()).as(slash.body()).isEqualTo(200);
        assertThat(slash.json()).isEqualTo(plain.json());
    }

    @Test
    void discoveryStatesFhirR4ForEveryService() {
        JsonNode services = new CdsClient(base(), keys()).discovery().json().path("services");
        assertThat(services.size())
                .isEqualTo(new org.crlm.cds.knowledge.ServiceCatalog()
                        .services(org.crlm.cds.support.RepositoryRules.get())
                        .size());
        for (JsonNode service : services) {
            JsonNode fhir = service.path("extension").path(FhirVersionExtension.KEY);
            assertThat(fhir.path("fhirVersion").asText())
                    .as(service.path("id").asText())
                    .isEqualTo("4.0.1");
            assertThat(fhir.path("release").asText()).isEqualTo("R4");
        }
    }

    @Test
    void draftOrdersInDstu2ShapeAre400SayingTheServiceSpeaksR4() {
        // A CDS Hooks 1.0-era client sending a DSTU2 MedicationOrder in draftOrders.
        Http.Response response = new CdsClient(base(), keys())
                .call(
                        "crlm-ablation-order-sign",
                        """
                {"hook": "order-sign", "hookInstance": "5f1b8a1e-9d7c-4b0e-a1f2-0d3c4b5a6978",
                 "context": {"userId": "Practitioner/example", "patientId": "crlm-demo-11",
                   "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [
                     {"resource": {"resourceType": "MedicationOrder", "id": "order-123", "status": "draft",
                       "patient": {"reference": "Patient/crlm-demo-11"},
                       "medicationCodeableConcept": {"text": "Acetaminophen 325 MG Oral Tablet"}}}]}}}
                """);
        assertOperationOutcome(response, 400, "invalid");
        assertThat(response.json()
                        .path("issue")
                        .get(0)
                        .path("expression")
                        .get(0)
                        .asText())
                .isEqualTo("context.draftOrders");
        assertThat(response.json().path("issue").get(0).path("diagnostics").asText())
                .contains("FHIR R4");
    }
}
