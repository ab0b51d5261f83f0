package org.crlm.cds.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.Http;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/** CDS Hooks 2.0 feedback: stored per rule and rule version, refused whole when any item is wrong. */
class FeedbackIT extends AppIntegrationTest {

    private static final String SERVICE = "crlm-ablation-patient-view";

    @Autowired
    JdbcTemplate jdbc;

    private CdsClient cds;

    @BeforeEach
    void client() {
        cds = new CdsClient(base(), keys());
    }

    @Test
    void acceptedAndOverriddenFeedbackIsStoredAgainstTheRuleVersionAndCounted() {
        JsonNode cards = issueCards("crlm-demo-01");
        String r1 = uuidOf(cards, "R1");
        String r8 = uuidOf(cards, "R8");
        String body =
                """
                {"feedback": [
                  {"card": "%s", "outcome": "overridden", "outcomeTimestamp": "2026-11-21T10:15:00Z",
                   "overrideReason": {"reason": {"system": "http://crlm-cds.org/fhir/CodeSystem/crlm-override-reason",
                                                 "code": "mdt-decision"}, "userComment": "Discussed at MDT"}},
                  {"card": "%s", "outcome": "accepted", "acceptedSuggestions": [], "outcomeTimestamp": "2026-11-21T10:16:00Z"}
                ]}"""
                        .formatted(r1, r8);

        Http.Response response = cds.feedback(SERVICE, body);

        assertThat(response.status()).as(response.body()).isEqualTo(200);
        assertThat(response.json().path("stored").asInt()).isEqualTo(2);
        Map<String, Object> row = jdbc.queryForMap(
                "select rule_id, library_version, outcome, override_reason_code from cds_feedback where card_uuid = ?",
                r1);
        assertThat(row)
                .containsEntry("RULE_ID", "R1")
                .containsEntry("OUTCOME", "overridden")
                .containsEntry("OVERRIDE_REASON_CODE", "mdt-decision")
                .containsEntry("LIBRARY_VERSION", "1.0.0");

        // The same feedback delivered twice is stored once.
        assertThat(cds.feedback(SERVICE, body).json().path("duplicates").asInt())
                .isEqualTo(2);

        JsonNode counts = Http.get(base() + "/console/api/feedback", keys().fhirToken("crlm/rules.write"))
                .json();
        JsonNode r1Counts = find(counts.path("rules"), "R1", "1.0.0");
        assertThat(r1Counts.path("overridden").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(r1Counts.path("issued").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(find(counts.path("rules"), "R8", "1.0.0").path("accepted").asLong())
                .isGreaterThanOrEqualTo(1);
        assertThat(counts.path("overrideReasons").findValuesAsText("reasonCode"))
                .contains("mdt-decision");

        // Per service and rule, every version side by side, with an override rate once cards are answered.
        JsonNode r1ByService = null;
        for (JsonNode serviceRule : counts.path("byService")) {
            if (SERVICE.equals(serviceRule.path("serviceId").asText())
                    && "R1".equals(serviceRule.path("ruleId").asText())) {
                r1ByService = serviceRule;
            }
        }
        assertThat(r1ByService).as(counts.toString()).isNotNull();
        JsonNode v100 = null;
        for (JsonNode version : r1ByService.path("versions")) {
            if ("1.0.0".equals(version.path("libraryVersion").asText())) {
                v100 = version;
            }
        }
        assertThat(v100).isNotNull();
        long accepted = v100.path("accepted").asLong();
        long overridden = v100.path("overridden").asLong();
        assertThat(overridden).isGreaterThanOrEqualTo(1);
        assertThat(v100.path("overrideRate").asDouble()).isEqualTo((double) overridden / (accepted + overridden));
    }

    @Test
    void anUnknownCardRefusesTheWholeRequestAndStoresNothing() {
        String known = uuidOf(issueCards("crlm-demo-01"), "R1");
        long before = feedbackRows();
        String body =
                """
                {"feedback": [
                  {"card": "%s", "outcome": "overridden", "outcomeTimestamp": "2026-11-21T11:00:00Z"},
                  {"card": "0f7c7c8e-1111-4bbb-8ccc-222222222222", "outcome": "overridden", "outcomeTimestamp": "2026-11-21T11:00:00Z"}
                ]}"""
                        .formatted(known);
        Http.Response response = cds.feedback(SERVICE, body);
        assertThat(response.status()).isEqualTo(400);
        assertThat(response.json()
                        .path("issue")
                        .get(0)
                        .path("expression")
                        .get(0)
                        .asText())
                .isEqualTo("feedback[1].card");
        assertThat(feedbackRows()).isEqualTo(before);
    }

    @Test
    void malformedItemsAre400AndStoreNothing() {
        String known = uuidOf(issueCards("crlm-demo-01"), "R2");
        long before = feedbackRows();
        List<String> bad = List.of(
                "{\"feedback\": {}}",
                "{\"feedback\": []}",
                "{\"feedback\": [{\"card\": \"%s\", \"outcome\": \"ignored\", \"outcomeTimestamp\": \"2026-11-21T11:00:00Z\"}]}",
                "{\"feedback\": [{\"card\": \"%s\", \"outcome\": \"accepted\", \"outcomeTimestamp\": \"2026-11-21T11:00:00Z\"}]}",
                "{\"feedback\": [{\"card\": \"%s\", \"outcome\": \"overridden\", \"outcomeTimestamp\": \"yesterday\"}]}",
                "{\"feedback\": [{\"card\": \"%s\", \"outcome\": \"overridden\"}]}",
                "{\"feedback\": [{\"card\": 12, \"outcome\": \"overridden\", \"outcomeTimestamp\": \"2026-11-21T11:00:00Z\"}]}",
                "{\"feedback\": [{\"card\": \"%s\", \"outcome\": \"overridden\", \"overrideReason\": {}, \"outcomeTimestamp\": \"2026-11-21T11:00:00Z\"}]}");
        for (String template : bad) {
            Http.Response response = cds.feedback(SERVICE, template.formatted(known));
            assertThat(response.status()).as(template).isEqualTo(400);
            assertThat(response.json().path("resourceType").asText()).isEqualTo("OperationOutcome");
        }
        assertThat(feedbackRows()).isEqualTo(before);
    }

    @Test
    void feedbackForACardOfAnotherServiceIsRefused() {
        String known = uuidOf(issueCards("crlm-demo-01"), "R1");
        Http.Response response = cds.feedback(
                "crlm-ablation-order-sign",
                """
                {"feedback": [{"card": "%s", "outcome": "overridden", "outcomeTimestamp": "2026-11-21T12:00:00Z"}]}"""
                        .formatted(known));
        assertThat(response.status()).isEqualTo(400);
    }

    private JsonNode issueCards(String patient) {
        Http.Response response = cds.call(SERVICE, CdsClient.patientViewRequest(patient));
        assertThat(response.status()).isEqualTo(200);
        return response.json().path("cards");
    }

    private static String uuidOf(JsonNode cards, String rule) {
        for (JsonNode card : cards) {
            if (rule.equals(card.path("source").path("topic").path("code").asText())) {
                return card.path("uuid").asText();
            }
        }
        throw new AssertionError("no " + rule + " card");
    }

    private static JsonNode find(JsonNode rows, String rule, String version) {
        for (JsonNode row : rows) {
            if (rule.equals(row.path("ruleId").asText())
                    && version.equals(row.path("libraryVersion").asText())) {
                return row;
            }
        }
        throw new AssertionError("no counts for " + rule + " " + version + " in " + rows);
    }

    private long feedbackRows() {
        return jdbc.queryForObject("select count(*) from cds_feedback", Long.class);
    }
}
