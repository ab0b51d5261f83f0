package org.crlm.cds.smart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.Http;
import org.junit.jupiter.api.Test;

/**
 * The planning view's API evaluates only the record it is sent (it reads no store, so it needs no
 * token), and a malformed request is a 400 OperationOutcome.
 */
class PlanningViewApiIT extends AppIntegrationTest {

    private Http.Response post(String patient, String body) {
        return Http.send(
                "POST",
                base() + "/smart/api/planning?patient=" + patient,
                body,
                Map.of("Content-Type", "application/fhir+json"));
    }

    @Test
    void theViewOfARecordComesFromTheRecordSentNeverFromTheStore() throws Exception {
        // crlm-demo-04 is stored with a lesion, a BRAF mutation and an ablation order; none of it is sent.
        Http.Response answer = post(
                "crlm-demo-04",
                "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":"
                        + "{\"resourceType\":\"Patient\",\"id\":\"crlm-demo-04\"}}]}");
        assertThat(answer.status()).isEqualTo(200);
        JsonNode view = Http.JSON.readTree(answer.body());
        assertThat(view.path("lesions")).isEmpty();
        assertThat(view.path("geneResults")).isEmpty();
        assertThat(view.path("thresholdMm").asDouble()).isEqualTo(30.0);
        assertThat(view.path("geneReadings"))
                .extracting(g -> g.path("gene").asText() + " "
                        + g.path("status").asText() + " " + g.path("tested").asBoolean())
                .containsExactly("KRAS unknown false", "NRAS unknown false", "BRAF unknown false");
        assertThat(view.path("rules"))
                .extracting(r -> r.path("status").asText())
                .doesNotContain("FIRED", "FAILED");
        assertThat(view.path("failures")).isEmpty();
    }

    @Test
    void aMalformedRequestIsA400OperationOutcome() throws Exception {
        Http.Response notABundle = post("crlm-demo-04", "{\"resourceType\":\"Patient\",\"id\":\"x\"}");
        assertThat(notABundle.status()).isEqualTo(400);
        assertThat(Http.JSON.readTree(notABundle.body()).path("resourceType").asText())
                .isEqualTo("OperationOutcome");
        Http.Response badPatient = post("a%20b", "{\"resourceType\":\"Bundle\",\"type\":\"collection\"}");
        assertThat(badPatient.status()).isEqualTo(400);
        assertThat(Http.JSON
                        .readTree(badPatient.body())
                        .path("issue")
                        .get(0)
                        .path("expression")
                        .get(0)
                        .asText())
                .isEqualTo("patient");
    }

    @Test
    void theViewRunsTheSearchesThePatientViewServiceDeclares() throws Exception {
        Http.Response answer = Http.get(base() + "/smart/api/queries", null);
        assertThat(answer.status()).isEqualTo(200);
        JsonNode queries = Http.JSON.readTree(answer.body()).path("queries");
        assertThat(queries.path("patient").asText()).isEqualTo("Patient/{{context.patientId}}");
        assertThat(queries.path("tumorSize").asText()).startsWith("Observation?patient={{context.patientId}}&code=");
        assertThat(queries.path("tumorSize").asText()).doesNotContain(":in=");
    }
}
