package org.crlm.cds.authoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.crlm.cds.authoring.ConsoleApi.set;
import static org.crlm.cds.authoring.ConsoleApi.threshold;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.knowledge.KnowledgeRepository;
import org.crlm.cds.knowledge.TrustedLoad;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSetBuilder;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.ScenarioChanges;
import org.crlm.cds.support.TestKeys;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The informatician's workflow in the console API: preview which scenarios and demo patients a
 * threshold change alters, publish it with the scenarios' new expectations, read the history
 * with publisher and time, diff two versions, roll back under a new version, and export the
 * published state as repository files.
 */
class KnowledgeConsoleIT extends AppIntegrationTest {

    private static final FhirContext FHIR = FhirContext.forR4Cached();
    private static final String RULES = "CRLMAblationRules";

    @Autowired
    DaoRegistry daoRegistry;

    @Autowired
    RuleLibraryCache ruleCache;

    @Autowired
    KnowledgeRepository repository;

    private CdsClient cds;
    private String originalJson;
    private String originalCql;

    @BeforeEach
    void remember() {
        cds = new CdsClient(base(), keys());
        originalJson = Http.get(base() + "/fhir/Library/" + RULES, author()).body();
        originalCql = RuleSetBuilder.cqlText(FHIR.newJsonParser().parseResource(Library.class, originalJson))
                .orElseThrow();
    }

    @AfterEach
    void restore() {
        Library original = FHIR.newJsonParser().parseResource(Library.class, originalJson);
        original.setMeta(null);
        original.setId("Library/" + RULES);
        daoRegistry.getResourceDao(Library.class).update(original, TrustedLoad.request());
        ruleCache.rebuild(repository.load());
        assertThat(ruleIds("crlm-demo-02")).containsExactly("R6");
    }

    @Test
    void theImpactPreviewListsExactlyTheScenariosAndPatientsThatChange() {
        String lowered = threshold(originalCql, "1.0.20", "3");

        JsonNode impact = post("/console/api/impact", Map.of("cql", lowered));

        assertThat(impact.path("publishable").asBoolean()).isFalse();
        Set<String> previewed = new TreeSet<>();
        impact.path("scenarios").forEach(s -> {
            previewed.add(s.path("scenario").asText());
            assertThat(s.path("before")).isNotEqualTo(s.path("after"));
        });
        assertThat(previewed).isNotEmpty();
        assertThat(impact.path("patients").toString()).contains("crlm-demo-10");
        for (JsonNode p : impact.path("patients")) {
            if (p.path("patientId").asText().equals("crlm-demo-10")) {
                // The advice cards (a GAPS card, what could not be assessed, is the same before and after).
                assertThat(p.path("before").toString().replace("\"GAPS\",", "")).isEqualTo("[\"R1\",\"R2\"]");
                assertThat(p.path("after").toString().replace("\"GAPS\",", "")).isEqualTo("[\"R1\"]");
            }
        }
        // The gate refuses a FHIR write of the same change naming exactly these scenarios.
        Library library = FHIR.newJsonParser().parseResource(Library.class, originalJson);
        library.setMeta(null);
        library.setVersion("1.0.20");
        library.getContent().clear();
        library.addContent().setContentType("text/cql").setData(lowered.getBytes(StandardCharsets.UTF_8));
        Http.Response put = Http.send(
                "PUT",
                base() + "/fhir/Library/" + RULES,
                FHIR.newJsonParser().encodeResourceToString(library),
                Map.of("Content-Type", "application/fhir+json", "Authorization", "Bearer " + author()));
        assertThat(put.status()).isEqualTo(422);
        assertThat(ScenarioChanges.of(FHIR.newJsonParser().parseResource(OperationOutcome.class, put.body()))
                        .keySet())
                .isEqualTo(previewed);

        // With the new expectations the same change is publishable.
        Map<String, Object> withExpectations = Map.of("cql", lowered, "expectations", afterOf(impact));
        assertThat(post("/console/api/impact", withExpectations)
                        .path("publishable")
                        .asBoolean())
                .isTrue();
        assertThat(ruleIds("crlm-demo-10"))
                .filteredOn(rule -> !rule.equals("GAPS"))
                .containsExactly("R1", "R2");
    }

    @Test
    void publishHistoryDiffAndRollbackUnderANewVersion() {
        String lowered = threshold(originalCql, "1.0.21", "3");
        JsonNode impact = post("/console/api/impact", Map.of("cql", lowered));
        Map<String, Set<String>> after = afterOf(impact);
        Map<String, Set<String>> before = new LinkedHashMap<>();
        impact.path("scenarios").forEach(s -> before.put(s.path("scenario").asText(), set(s.path("before"))));

        Http.Response published = Http.postJson(
                base() + "/console/api/publish", Http.write(Map.of("cql", lowered, "expectations", after)), author());
        assertThat(published.status()).as(published.body()).isEqualTo(200);
        // The advice cards (GAPS, what could not be assessed, does not depend on the threshold).
        assertThat(ruleIds("crlm-demo-10"))
                .filteredOn(rule -> !rule.equals("GAPS"))
                .containsExactly("R1");

        JsonNode history = Http.get(base() + "/console/api/knowledge/Library/" + RULES + "/history", author())
                .json();
        JsonNode newest = history.get(0);
        JsonNode previous = history.get(1);
        assertThat(newest.path("version").asText()).isEqualTo("1.0.21");
        assertThat(newest.path("publishedBy").asText()).contains("(console)");
        assertThat(newest.path("lastUpdated").asText()).isNotBlank();

        JsonNode diff = Http.get(
                        base() + "/console/api/knowledge/Library/" + RULES + "/diff?from="
                                + previous.path("versionId").asText() + "&to="
                                + newest.path("versionId").asText(),
                        author())
                .json();
        assertThat(diff.path("diff").asText())
                .contains("-parameter \"Multiple Ablation Count\" Integer default 2")
                .contains("+parameter \"Multiple Ablation Count\" Integer default 3");

        Http.Response rolledBack = Http.postJson(
                base() + "/console/api/knowledge/Library/" + RULES + "/rollback",
                Http.write(Map.of(
                        "versionId",
                        previous.path("versionId").asText(),
                        "newVersion",
                        "1.0.22",
                        "expectations",
                        before)),
                author());
        assertThat(rolledBack.status()).as(rolledBack.body()).isEqualTo(200);
        assertThat(ruleIds("crlm-demo-10"))
                .filteredOn(rule -> !rule.equals("GAPS"))
                .containsExactly("R1", "R2");
        Library stored = FHIR.newJsonParser()
                .parseResource(
                        Library.class,
                        Http.get(base() + "/fhir/Library/" + RULES, author()).body());
        assertThat(stored.getVersion()).isEqualTo("1.0.22");
        assertThat(RuleSetBuilder.cqlText(stored).orElseThrow())
                .contains("library CRLMAblationRules version '1.0.22'")
                .contains("\"Multiple Ablation Count\" Integer default 2");
    }

    @Test
    void theConsoleCannotPublishOtherContentUnderAPublishedVersion() {
        Http.Response response = Http.postJson(
                base() + "/console/api/publish",
                Http.write(Map.of("cql", originalCql.replace("context Patient", "// edited\ncontext Patient"))),
                author());
        assertThat(response.status()).isEqualTo(422);
        assertThat(response.body()).contains("version 1.0.0 is already published with different content");
    }

    @Test
    void theExportHoldsThePublishedStateAsRepositoryFiles() {
        JsonNode export = Http.get(base() + "/console/api/export", author()).json();
        JsonNode files = export.path("files");
        assertThat(files.path("cql/" + RULES + ".cql").asText()).isEqualTo(originalCql);
        String valueSet =
                files.path("fhir-resources/terminology/ValueSet-kras-gene.json").asText();
        assertThat(valueSet)
                .contains("\"id\": \"kras-gene\"")
                .contains("\"url\": \"http://crlm-cds.org/fhir/ValueSet/kras-gene\"")
                .doesNotContain("\"meta\"")
                .doesNotContain("published-by");
        assertThat(files.path("fhir-resources/rules/PlanDefinition-crlm-rule-r3.json")
                        .asText())
                .contains("\"version\": \"1.0.0\"");
    }

    // ---- helpers ----

    private static Map<String, Set<String>> afterOf(JsonNode impact) {
        Map<String, Set<String>> after = new LinkedHashMap<>();
        impact.path("scenarios").forEach(s -> after.put(s.path("scenario").asText(), set(s.path("after"))));
        return after;
    }

    private JsonNode post(String path, Object body) {
        return ConsoleApi.post(base() + path, body, author());
    }

    private String author() {
        return keys().fhirToken("user/*.read", TestKeys.AUTHORING_SCOPE);
    }

    private Set<String> ruleIds(String patient) {
        Http.Response response = cds.patientView(patient);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return new TreeSet<>(CdsHooksShape.ruleIds(response.json()));
    }
}
