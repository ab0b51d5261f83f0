package org.crlm.cds.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.TestKeys;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/** What operators see: Prometheus metrics, the audit trail of decisions, correlation ids. */
class MetricsAndAuditIT extends AppIntegrationTest {

    @Autowired
    JdbcTemplate jdbc;

    private static String patientView(String hookInstance, String patient) {
        return """
                {"hook": "patient-view", "hookInstance": "%s",
                 "context": {"userId": "Practitioner/test-surgeon", "patientId": "%s"}}"""
                .formatted(hookInstance, patient);
    }

    @Test
    void prometheusShowsLatencyCardsRefusalsFetchesAndNoTranslationsOnTheRequestPath() {
        CdsClient cds = new CdsClient(base(), keys());
        double translationsBefore = metric("cql_translations_total");
        for (int i = 0; i < 20; i++) {
            assertThat(cds.call(
                                    "crlm-ablation-patient-view",
                                    patientView(UUID.randomUUID().toString(), "crlm-demo-01"))
                            .status())
                    .isEqualTo(200);
        }
        assertThat(metric("cql_translations_total"))
                .as("no CQL translation while answering hooks")
                .isEqualTo(translationsBefore);
        Http.postJson(base() + "/cds-services/crlm-ablation-patient-view", "{}", "not-a-jwt");

        String metrics = Http.get(base() + "/actuator/prometheus", keys().fhirToken(TestKeys.METRICS_SCOPE))
                .body();
        assertThat(metrics)
                .containsPattern("cds_hook_duration_seconds_bucket\\{.*service=\"crlm-ablation-patient-view\".*\\}")
                .containsPattern("cds_cards_total\\{.*indicator=\"warning\".*rule=\"R1\".*\\}")
                .containsPattern("cds_jwt_refusals_total\\{reason=\"MALFORMED\"\\}")
                .containsPattern("cds_prefetch_misses_total\\{key=\"geneticResults\"\\}")
                .containsPattern("cds_local_fetches_total\\{key=\"tumorSize\"\\}")
                .contains("cql_translations_total");
    }

    @Test
    void everyDecisionIsAuditedWithIdsOnly() {
        String instance = UUID.randomUUID().toString();
        Http.Response response = Http.send(
                "POST",
                base() + "/cds-services/crlm-ablation-patient-view",
                patientView(instance, "crlm-demo-01"),
                Map.of(
                        "Content-Type",
                        "application/json",
                        "X-Correlation-Id",
                        "corr-audit-0001",
                        "Authorization",
                        "Bearer " + keys().cdsJwt(base() + "/cds-services/crlm-ablation-patient-view")));
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("X-Correlation-Id")).isEqualTo("corr-audit-0001");
        // Written before the answer was sent: no flush, no wait.

        Map<String, Object> row = jdbc.queryForMap("select * from cds_audit_event where hook_instance = ?", instance);
        assertThat(row)
                .containsEntry("SERVICE_ID", "crlm-ablation-patient-view")
                .containsEntry("HOOK", "patient-view")
                .containsEntry("PATIENT_ID", "crlm-demo-01")
                .containsEntry("CLIENT_ISSUER", TestKeys.CDS_ISSUER)
                .containsEntry("CORRELATION_ID", "corr-audit-0001")
                .containsEntry("HTTP_STATUS", 200);
        assertThat((String) row.get("RULES_FIRED")).isEqualTo("R1,R2,R8");
        assertThat((String) row.get("LIBRARY_VERSIONS")).contains("CRLMAblationRules=1.0.0");
        // The resources the decision read, each with its version and where it came from (no prefetch was sent:
        // this server's own store), so the decision can be reconstructed.
        String read = (String) row.get("RESOURCES_READ");
        assertThat(read)
                .contains("\"reference\":\"Patient/crlm-demo-01\"")
                .contains("\"source\":\"LOCAL_STORE\"")
                .contains("\"prefetchKey\":\"geneticResults\"")
                .containsPattern("\"version\":\"\\d+\"")
                .doesNotContain("p.Gly12Asp")
                .doesNotContain("valueCodeableConcept");
        assertThat((String) row.get("DATA_SOURCES")).contains("geneticResults=LOCAL_STORE");

        String refused = UUID.randomUUID().toString();
        String url = base() + "/cds-services/crlm-ablation-patient-view";
        Http.postJson(
                url,
                "{\"hook\": \"patient-view\", \"hookInstance\": \"" + refused + "\", \"context\": {}}",
                keys().cdsJwt(url));
        assertThat(jdbc.queryForObject(
                        "select http_status from cds_audit_event where hook_instance = ?", Integer.class, refused))
                .isEqualTo(400);
    }

    @Test
    void aCorrelationIdIsMadeWhenTheCallerSendsNone() {
        Http.Response response = new CdsClient(base(), keys()).discovery();
        assertThat(response.header("X-Correlation-Id")).matches("[0-9a-f\\-]{36}");
    }

    private double metric(String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*\\})? ([0-9.eE+\\-]+)$")
                .matcher(Http.get(base() + "/actuator/prometheus", keys().fhirToken(TestKeys.METRICS_SCOPE))
                        .body());
        double total = 0;
        boolean found = false;
        while (m.find()) {
            total += Double.parseDouble(m.group(2));
            found = true;
        }
        assertThat(found)
                .as(name + " exported in\n"
                        + Http.get(base() + "/actuator/prometheus", keys().fhirToken(TestKeys.METRICS_SCOPE))
                                .body()
                                .lines()
                                .filter(l -> l.contains("cql") || l.contains("translation"))
                                .toList())
                .isTrue();
        return total;
    }
}
