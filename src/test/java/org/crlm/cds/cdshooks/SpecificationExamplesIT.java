package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.Http;
import org.junit.jupiter.api.Test;

/**
 * The CDS Hooks 2.0 specification's own example requests (src/test/resources/cds-hooks-spec,
 * sources in SOURCE.md there), sent as written to this server's services. Each is answered 200
 * or with the status the specification prescribes: 412 when the service cannot obtain the data
 * it needs ("Providing FHIR Resources to a CDS Service"); 400 for a request that lacks a field
 * the hook requires. The example patient (1288992) is unknown here, and its fhirServer is not on
 * the allow-list, so no card may be computed for it: never {"cards": []}.
 */
class SpecificationExamplesIT extends AppIntegrationTest {

    private static ObjectNode example(String name) {
        try (InputStream in = SpecificationExamplesIT.class.getResourceAsStream("/cds-hooks-spec/" + name)) {
            return (ObjectNode) Http.JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> expressions(JsonNode outcome) {
        List<String> found = new ArrayList<>();
        outcome.path("issue").get(0).path("expression").forEach(e -> found.add(e.asText()));
        return found;
    }

    @Test
    void thePatientViewExampleWithItsFhirServerIs412NamingOurPrefetchKeys() {
        Http.Response response =
                new CdsClient(base(), keys()).call("crlm-ablation-patient-view", example("patient-view-request.json"));

        assertThat(response.status()).as(response.body()).isEqualTo(412);
        assertThat(response.json().path("resourceType").asText()).isEqualTo("OperationOutcome");
        assertThat(response.json().path("issue").get(0).path("code").asText()).isEqualTo("incomplete");
        assertThat(expressions(response.json())).isNotEmpty().allMatch(e -> e.startsWith("prefetch."));
        assertThat(response.json().path("issue").get(0).path("diagnostics").asText())
                .contains("allow-list");
    }

    @Test
    void thePatientViewExampleWithoutFhirServerIs412ForAPatientThisStoreDoesNotHold() {
        ObjectNode request = example("patient-view-request.json");
        request.remove("fhirServer");
        request.remove("fhirAuthorization");
        Http.Response response = new CdsClient(base(), keys()).call("crlm-ablation-patient-view", request);

        assertThat(response.status()).as(response.body()).isEqualTo(412);
        assertThat(response.json().path("issue").get(0).path("diagnostics").asText())
                .contains("no Patient");
    }

    @Test
    void theExtensionExampleIsReadButItsContextLacksThePatientViewHooksRequiredPatientId() {
        Http.Response response = new CdsClient(base(), keys())
                .call("crlm-ablation-patient-view", example("request-with-extension.json"));

        assertThat(response.status()).as(response.body()).isEqualTo(400);
        assertThat(expressions(response.json())).containsExactly("context.patientId");
    }

    @Test
    void theFeedbackExamplesAreStoredForCardsThisServiceIssued() {
        CdsClient cds = new CdsClient(base(), keys());
        // crlm-demo-01 gets three cards (R1, R2, R8); the examples' card uuids are replaced by theirs.
        ObjectNode call = Http.JSON.createObjectNode();
        call.put("hook", "patient-view");
        call.put("hookInstance", java.util.UUID.randomUUID().toString());
        call.putObject("context").put("userId", "Practitioner/example").put("patientId", "crlm-demo-01");
        JsonNode cards = cds.call("crlm-ablation-patient-view", call).json();
        assertThat(CdsHooksShape.ruleIds(cards)).hasSize(3);
        int i = 0;
        for (String name :
                List.of("feedback-accepted.json", "feedback-overridden.json", "feedback-overridden-with-reason.json")) {
            ObjectNode feedback = example(name);
            ((ObjectNode) feedback.path("feedback").get(0))
                    .put("card", cards.path("cards").get(i++).path("uuid").asText());
            Http.Response response = cds.feedback("crlm-ablation-patient-view", Http.write(feedback));
            assertThat(response.status()).as(name + ": " + response.body()).isEqualTo(200);
            assertThat(response.json().path("stored").asInt()).as(name).isEqualTo(1);
        }
    }

    @Test
    void theFeedbackExamplesAsWrittenNameCardsThisServiceNeverIssued() {
        Http.Response response = new CdsClient(base(), keys())
                .feedback("crlm-ablation-patient-view", Http.write(example("feedback-overridden.json")));
        assertThat(response.status()).as(response.body()).isEqualTo(400);
        assertThat(expressions(response.json())).containsExactly("feedback[0].card");
    }
}
