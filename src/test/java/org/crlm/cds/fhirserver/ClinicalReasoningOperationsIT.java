package org.crlm.cds.fhirserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.ApplyClient;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.TestKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * PlanDefinition/$apply and Library/$evaluate on /fhir for the demo patient crlm-demo-11 (KRAS
 * mutated, one lesion booked for ablation: R1 on the stored record): the answer a caller with a
 * read scope gets, the callers refused, and CQL translated once, not per call.
 */
class ClinicalReasoningOperationsIT extends AppIntegrationTest {

    static final String PATIENT = "crlm-demo-11";
    static final String SERVICE = "crlm-ablation-patient-view";

    private ApplyClient client(String token) {
        return new ApplyClient(base() + "/fhir", token);
    }

    @Test
    void aReaderAppliesTheServicePlanDefinitionAndGetsTheRulesAsACarePlan() {
        Http.Response response = client(keys().fhirToken("user/*.read")).apply(SERVICE, PATIENT, List.of(), null);

        assertThat(response.status()).as(response.body()).isEqualTo(200);
        JsonNode carePlan = response.json();
        assertThat(carePlan.path("resourceType").asText()).isEqualTo("CarePlan");
        assertThat(carePlan.path("subject").path("reference").asText()).isEqualTo("Patient/" + PATIENT);
        assertThat(ApplyClient.ruleIds(carePlan)).containsExactly("R1");
    }

    @Test
    void aReaderEvaluatesTheRulesLibrary() {
        Http.Response response = client(keys().fhirToken("user/*.read"))
                .evaluate("CRLMAblationRules", PATIENT, List.of("R1 Applies", "R6 Applies"));

        assertThat(response.status()).as(response.body()).isEqualTo(200);
        JsonNode parameters = response.json();
        assertThat(parameters.path("resourceType").asText()).isEqualTo("Parameters");
        assertThat(value(parameters, "R1 Applies")).as(response.body()).isEqualTo("true");
        assertThat(value(parameters, "R6 Applies")).as(response.body()).isEqualTo("false");
    }

    private static String value(JsonNode parameters, String name) {
        for (JsonNode p : parameters.path("parameter")) {
            if (name.equals(p.path("name").asText())) {
                return p.path("valueBoolean").asText();
            }
        }
        return null;
    }

    static Stream<Arguments> callersWithoutAReadScope() {
        TestKeys keys = TestKeys.get();
        return Stream.of(
                Arguments.of("no token", null, 401),
                Arguments.of("openid only", keys.fhirToken("openid", "fhirUser"), 403),
                Arguments.of("the authoring scope only", keys.fhirToken(TestKeys.AUTHORING_SCOPE), 403),
                Arguments.of("the metrics scope only", keys.fhirToken(TestKeys.METRICS_SCOPE), 403),
                Arguments.of("a write scope without read", keys.fhirToken("user/*.write"), 403),
                Arguments.of("a read scope on Observations only", keys.fhirToken("user/Observation.read"), 403),
                Arguments.of(
                        "a read scope on knowledge only",
                        keys.fhirToken("user/Library.read", "user/PlanDefinition.read"),
                        403),
                Arguments.of(
                        "a patient launch for another patient",
                        keys.fhirPatientToken("crlm-demo-01", "patient/*.read"),
                        403));
    }

    @ParameterizedTest(name = "$apply refused: {0}")
    @MethodSource("callersWithoutAReadScope")
    void applyRefusesACallerWithoutAReadScope(String who, String token, int status) {
        refused(client(token).apply(SERVICE, PATIENT, List.of(), null), status);
    }

    @ParameterizedTest(name = "$evaluate refused: {0}")
    @MethodSource("callersWithoutAReadScope")
    void evaluateRefusesACallerWithoutAReadScope(String who, String token, int status) {
        refused(client(token).evaluate("CRLMAblationRules", PATIENT, List.of("KRAS Status")), status);
    }

    private static void refused(Http.Response response, int status) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        assertThat(response.body()).doesNotContain("CarePlan", "p.Ala146Thr", "\tat ", ".java:");
        if (status == 403) {
            assertThat(response.json().path("resourceType").asText()).isEqualTo("OperationOutcome");
        }
    }

    @Test
    void warmCallsTranslateNoCql() {
        ApplyClient reader = client(keys().fhirToken("user/*.read"));
        Function<Integer, Void> calls = n -> {
            for (int i = 0; i < n; i++) {
                assertThat(reader.apply(SERVICE, PATIENT, List.of(), null).status())
                        .isEqualTo(200);
                assertThat(reader.evaluate("CRLMAblationRules", PATIENT, List.of("R1 Applies"))
                                .status())
                        .isEqualTo(200);
            }
            return null;
        };
        calls.apply(1);
        double warm = metric("cql_translations_clinical_reasoning_total");
        assertThat(warm).as("the libraries were translated once").isGreaterThan(0);

        calls.apply(5);

        assertThat(metric("cql_translations_clinical_reasoning_total")).isEqualTo(warm);
    }

    private double metric(String name) {
        String body = Http.get(base() + "/actuator/prometheus", keys().fhirToken(TestKeys.METRICS_SCOPE))
                .body();
        Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*\\})? ([0-9.eE+\\-]+)$")
                .matcher(body);
        assertThat(m.find()).as(name + " exported").isTrue();
        return Double.parseDouble(m.group(2));
    }
}
