package org.crlm.cds.fhirserver;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.bench.ServerProcess;
import org.crlm.cds.rules.RuleSetBuilder;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.DirectoryCopy;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.ScenarioChanges;
import org.crlm.cds.support.TestKeys;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart is a new process: the packaged server runs as its own JVM on an H2 file, a library
 * is published over FHIR with the scenario expectations it changes, the process stops, and a
 * new JVM on the same database and repository files starts. The published library is still the
 * one in service (the start-up loader keeps it over the repository's older file), the demo
 * patient still gets the published cards, and the publish gate still holds the updated
 * expectations (they are in the database, not in the first process's memory).
 */
class KnowledgeSurvivesRestartIT {

    private static final FhirContext FHIR = FhirContext.forR4Cached();
    private static final String RULES = "CRLMAblationRules";

    @TempDir
    Path work;

    @Test
    void aLibraryPublishedOverFhirAndTheExpectationsItChangedSurviveANewJvm() throws Exception {
        Path jar = Path.of("target", "crlm-ablation-cds.jar");
        assertThat(jar)
                .as("the packaged app (mvn package runs before the integration tests)")
                .exists();
        Path cql = DirectoryCopy.copy(Path.of("cql"), work.resolve("cql"));
        List<String> app = List.of(
                "--spring.profiles.active=demo",
                "--crlm.data-dir=" + work.resolve("data").toAbsolutePath(),
                "--crlm.knowledge.cql-dir=" + cql.toAbsolutePath(),
                "--crlm.knowledge.resources-dir=" + Path.of("fhir-resources").toAbsolutePath());
        int port = TestKeys.freePort();

        Map<String, Set<String>> expected;
        String published;
        try (ServerProcess first = new ServerProcess(jar, port, work.resolve("first"), List.of("-Xmx768m"), app)) {
            first.awaitReady(Duration.ofMinutes(6));
            String base = first.base();
            assertThat(advice(base, "crlm-demo-10")).containsExactly("R1", "R2");

            // R2 from three planned ablations: refused until the changed scenarios' expectations come along.
            String json = Http.get(base + "/fhir/Library/" + RULES, null).body();
            Library library = FHIR.newJsonParser().parseResource(Library.class, json);
            String cqlText = RuleSetBuilder.cqlText(library).orElseThrow();
            published = cqlText.replaceFirst(
                            "library CRLMAblationRules version '[^']+'", "library CRLMAblationRules version '1.8.0'")
                    .replace(
                            "parameter \"Multiple Ablation Count\" Integer default 2",
                            "parameter \"Multiple Ablation Count\" Integer default 3");
            assertThat(published).isNotEqualTo(cqlText);
            library.setMeta(null);
            library.setVersion("1.8.0");
            library.getContent().clear();
            library.addContent().setContentType("text/cql").setData(published.getBytes(StandardCharsets.UTF_8));
            Http.Response refused = put(base, library);
            assertThat(refused.status()).as(refused.body()).isEqualTo(422);
            Map<String, ScenarioChanges.Change> changes =
                    ScenarioChanges.of(FHIR.newJsonParser().parseResource(OperationOutcome.class, refused.body()));
            assertThat(changes).isNotEmpty();
            expected = ScenarioChanges.after(changes);
            Http.Response accepted = put(base, ScenarioChanges.expecting(library, expected));
            assertThat(accepted.status()).as(accepted.body()).isIn(200, 201);
            assertThat(advice(base, "crlm-demo-10")).containsExactly("R1");
            assertThat(updatedExpectations(base)).isEqualTo(expected);
        }

        // A new JVM on the same H2 file and the same repository files (whose library is still 1.0.0).
        try (ServerProcess second = new ServerProcess(jar, port, work.resolve("second"), List.of("-Xmx768m"), app)) {
            second.awaitReady(Duration.ofMinutes(6));
            String base = second.base();
            Library stored = FHIR.newJsonParser()
                    .parseResource(
                            Library.class,
                            Http.get(base + "/fhir/Library/" + RULES, null).body());
            assertThat(stored.getVersion()).isEqualTo("1.8.0");
            assertThat(RuleSetBuilder.cqlText(stored).orElseThrow()).isEqualTo(published);
            assertThat(advice(base, "crlm-demo-10")).containsExactly("R1");
            assertThat(Files.readString(work.resolve("second").resolve("server.log")))
                    .as("the loader says it keeps the published version")
                    .contains("Library/CRLMAblationRules: keeping version 1.8.0 from the database");

            // The expectations the publish updated are still the gate's: exported, and expected by the scenarios.
            assertThat(updatedExpectations(base)).isEqualTo(expected);
            String back = published
                    .replace("version '1.8.0'", "version '1.8.1'")
                    .replace(
                            "parameter \"Multiple Ablation Count\" Integer default 3",
                            "parameter \"Multiple Ablation Count\" Integer default 2");
            JsonNode impact = Http.postJson(base + "/console/api/impact", Http.write(Map.of("cql", back)), null)
                    .json();
            Set<String> changedBack = new TreeSet<>();
            for (JsonNode s : impact.path("scenarios")) {
                String id = s.path("scenario").asText();
                changedBack.add(id);
                assertThat(set(s.path("expected"))).as(id).isEqualTo(expected.get(id));
                assertThat(s.path("accepted").asBoolean()).as(id).isFalse();
            }
            assertThat(changedBack).isEqualTo(expected.keySet());
        }
    }

    private static Http.Response put(String base, Library library) {
        return Http.send(
                "PUT",
                base + "/fhir/Library/" + RULES,
                FHIR.newJsonParser().encodeResourceToString(library),
                Map.of("Content-Type", "application/fhir+json"));
    }

    private static Map<String, Set<String>> updatedExpectations(String base) {
        JsonNode export = Http.get(base + "/console/api/export", null).json();
        Map<String, Set<String>> updated = new java.util.TreeMap<>();
        export.path("scenarioExpectations").fields().forEachRemaining(e -> updated.put(e.getKey(), set(e.getValue())));
        return updated;
    }

    /** The advice cards for a demo patient (GAPS, what could not be assessed, left out). */
    private static Set<String> advice(String base, String patient) {
        Http.Response response = Http.postJson(
                base + "/cds-services/crlm-ablation-patient-view",
                """
                {"hook": "patient-view", "hookInstance": "%s",
                 "context": {"userId": "Practitioner/test-surgeon", "patientId": "%s"}}"""
                        .formatted(java.util.UUID.randomUUID(), patient),
                null);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        Set<String> rules = new TreeSet<>(CdsHooksShape.ruleIds(response.json()));
        rules.remove("GAPS");
        return rules;
    }

    private static Set<String> set(JsonNode array) {
        Set<String> values = new TreeSet<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }
}
