package org.crlm.cds.authoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.rules.CqlSource;
import org.crlm.cds.rules.RuleSetBuilder;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.TestKeys;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Informaticians publish rules through the FHIR API of the running server: a valid change is
 * used by the next hook call with no restart; a broken one is refused with 422 and the line,
 * and the rules in service do not change. Dev mode publishes cql/ on save. (What the publish
 * gate checks beyond translation is in PublishGateIT.)
 */
class PublishRulesIT extends AppIntegrationTest {

    private static final FhirContext FHIR = FhirContext.forR4Cached();
    private static final String LIBRARY = "CRLMAblationRules";

    @Autowired
    DevModeWatcher devMode;

    @Autowired
    org.crlm.cds.rules.RuleLibraryCache ruleCache;

    @Autowired
    org.crlm.cds.knowledge.KnowledgeRepository repository;

    private CdsClient cds;
    private String originalLibraryJson;
    private String originalCql;

    @BeforeEach
    void remember() throws Exception {
        cds = new CdsClient(base(), keys());
        originalLibraryJson =
                Http.get(base() + "/fhir/Library/" + LIBRARY, authorToken()).body();
        originalCql = cqlOf(originalLibraryJson);
    }

    @AfterEach
    void restore() throws Exception {
        // Rewrite the watched copy only when a test changed it, and let the dev-mode watcher publish
        // it now: a late publish of the restored file would overwrite the next test's own publish.
        Path watched = CQL_DIR.resolve(LIBRARY + ".cql");
        String repository = Files.readString(Path.of("cql", LIBRARY + ".cql"));
        if (!Files.readString(watched).equals(repository)) {
            Files.writeString(watched, repository);
            String version =
                    CqlSource.of(repository, watched.toString()).orElseThrow().version();
            await().atMost(Duration.ofSeconds(15)).until(() -> devMode.lastAttempt()
                    .filter(a -> version.equals(a.version()))
                    .isPresent());
        }
        Library original = FHIR.newJsonParser().parseResource(Library.class, originalLibraryJson);
        // The dev-mode watcher may publish the restored cql/ file at the same moment (409 on a
        // version race): read again and retry until the stored library is the original.
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> {
                    String current = Http.get(base() + "/fhir/Library/" + LIBRARY, authorToken())
                            .body();
                    if (cqlOf(current).equals(originalCql)
                            && FHIR.newJsonParser()
                                    .parseResource(Library.class, current)
                                    .getVersion()
                                    .equals(original.getVersion())) {
                        return true;
                    }
                    Http.Response put = putLibrary(original, authorToken());
                    assertThat(put.status()).as(put.body()).isIn(200, 201, 409);
                    return false;
                });
        awaitRulesVersion("1.0.0");
    }

    @Test
    void aValidChangeIsUsedByTheNextCallWithoutRestart() {
        // A change that leaves every scenario's cards as they were (the publish gate runs them all).
        assertThat(ruleIds("crlm-demo-02")).containsExactly("R6");
        String commented = withVersion(originalCql, "1.0.1")
                .replace("context Patient", "// Reviewed by the rules committee.\ncontext Patient");
        Http.Response put = publish(commented, authorToken());
        assertThat(put.status()).as(put.body()).isEqualTo(200);

        JsonNode body = patientView("crlm-demo-02");
        assertThat(CdsHooksShape.ruleIds(body)).containsExactly("R6");
        assertThat(body.path("cards")
                        .get(0)
                        .path("extension")
                        .path("org.crlm-cds.rule")
                        .path("libraryVersion")
                        .asText())
                .isEqualTo("1.0.1");
        Library stored = FHIR.newJsonParser()
                .parseResource(
                        Library.class,
                        Http.get(base() + "/fhir/Library/" + LIBRARY, authorToken())
                                .body());
        assertThat(stored.getVersion()).isEqualTo("1.0.1");
        assertThat(stored.getContent()).extracting(c -> c.getContentType()).contains("application/elm+json");
    }

    @Test
    void brokenCqlIsRefusedWithTheLineAndTheRulesInServiceStay() {
        Set<String> before = ruleIds("crlm-demo-01");
        String broken = withVersion(originalCql, "1.0.2")
                .replace(
                        "define \"R1 Applies\":\n  \"KRAS Status\" = 'mutated' and \"Ablation Planned\"",
                        "define \"R1 Applies\":\n  \"KRAS Status\" = 'mutated' and \"Ablation Plannned\"");
        int line = lineOf(broken, "Ablation Plannned");

        Http.Response put = publish(broken, authorToken());

        assertThat(put.status()).isEqualTo(422);
        OperationOutcome outcome = FHIR.newJsonParser().parseResource(OperationOutcome.class, put.body());
        OperationOutcome.OperationOutcomeIssueComponent issue = outcome.getIssueFirstRep();
        assertThat(issue.getDiagnostics())
                .contains("CRLMAblationRules line " + line)
                .contains("Ablation Plannned");
        assertThat(issue.getExtensionByUrl("http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line")
                        .getValue()
                        .primitiveValue())
                .isEqualTo(Integer.toString(line));
        assertThat(ruleIds("crlm-demo-01")).isEqualTo(before);
        assertThat(FHIR.newJsonParser()
                        .parseResource(
                                Library.class,
                                Http.get(base() + "/fhir/Library/" + LIBRARY, authorToken())
                                        .body())
                        .getVersion())
                .isEqualTo("1.0.0");
    }

    @Test
    void aPlanDefinitionNamingAMissingExpressionIsRefused() {
        PlanDefinition plan = FHIR.newJsonParser()
                .parseResource(
                        PlanDefinition.class,
                        Http.get(base() + "/fhir/PlanDefinition/crlm-rule-r3", authorToken())
                                .body());
        // A version no other test publishes: a published version can never mean other content.
        plan.setVersion("1.0.91");
        plan.getActionFirstRep().getConditionFirstRep().getExpression().setExpression("R3 Aplies");
        Http.Response put = Http.send(
                "PUT",
                base() + "/fhir/PlanDefinition/crlm-rule-r3",
                FHIR.newJsonParser().encodeResourceToString(plan),
                Map.of("Content-Type", "application/fhir+json", "Authorization", "Bearer " + authorToken()));
        assertThat(put.status()).isEqualTo(422);
        assertThat(put.body()).contains("R3 Aplies");
    }

    @Test
    void changedCqlUnderAnUnchangedVersionIsRefused() {
        String sameVersion = originalCql.replace("default 30.0", "default 25.0");
        Http.Response put = publish(sameVersion, authorToken());
        assertThat(put.status()).isEqualTo(422);
        assertThat(put.body()).contains("change the version");
    }

    @Test
    void theOverviewShowsEachRulesGovernance() {
        JsonNode overview =
                Http.get(base() + "/console/api/overview", authorToken()).json();
        int rules = 0;
        for (JsonNode service : overview.path("services")) {
            for (JsonNode rule : service.path("rules")) {
                JsonNode governance = rule.path("governance");
                assertThat(governance.path("authors").size())
                        .as(rule.path("ruleId").asText())
                        .isPositive();
                assertThat(governance.path("reviewers").size()).isPositive();
                assertThat(governance.path("approvalDate").asText()).matches("\\d{4}-\\d{2}-\\d{2}");
                assertThat(governance.path("lastReviewDate").asText()).matches("\\d{4}-\\d{2}-\\d{2}");
                assertThat(governance.path("effectiveFrom").asText()).matches("\\d{4}-\\d{2}-\\d{2}");
                // Every card that quotes studies cites them with their addresses (GAPS quotes none).
                if (!"GAPS".equals(rule.path("ruleId").asText())) {
                    assertThat(governance.path("citations").findValuesAsText("url"))
                            .as(rule.path("ruleId").asText())
                            .isNotEmpty()
                            .allMatch(u -> u.startsWith("https://"));
                }
                rules++;
            }
        }
        assertThat(rules).isPositive();
    }

    @Test
    void publishingNeedsTheAuthoringScope() {
        String changed = withVersion(originalCql, "1.0.3");
        Http.Response clinician = publish(changed, keys().fhirToken("user/*.read", "user/*.write"));
        assertThat(clinician.status()).isEqualTo(403);
        Http.Response anonymous = publish(changed, null);
        assertThat(anonymous.status()).isEqualTo(401);
        // A transaction at the server root needs */*.write; a Library inside it still needs the authoring scope.
        Library library = libraryWith(changed);
        String transaction =
                """
                {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": %s,
                  "request": {"method": "PUT", "url": "Library/%s"}}]}"""
                        .formatted(FHIR.newJsonParser().encodeResourceToString(library), LIBRARY);
        Http.Response tx = Http.send(
                "POST",
                base() + "/fhir",
                transaction,
                Map.of(
                        "Content-Type",
                        "application/fhir+json",
                        "Authorization",
                        "Bearer " + keys().fhirToken("user/*.write", "user/*.read")));
        assertThat(tx.status()).isEqualTo(403);
        assertThat(cqlOf(Http.get(base() + "/fhir/Library/" + LIBRARY, authorToken())
                        .body()))
                .isEqualTo(originalCql);
    }

    @Test
    void validateRulesChecksWithoutSaving() {
        String broken = withVersion(originalCql, "1.0.4")
                .replace(
                        "define \"R1 Applies\":\n  \"KRAS Status\" = 'mutated' and \"Ablation Planned\"",
                        "define \"R1 Applies\":\n  \"KRAS Status\" = 'mutated' and \"Ablation Plannd\"");
        Parameters parameters = new Parameters();
        parameters.addParameter().setName("resource").setResource(libraryWith(broken));
        Http.Response response = Http.send(
                "POST",
                base() + "/fhir/Library/$validate-rules",
                FHIR.newJsonParser().encodeResourceToString(parameters),
                Map.of("Content-Type", "application/fhir+json", "Authorization", "Bearer " + authorToken()));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        OperationOutcome outcome = FHIR.newJsonParser().parseResource(OperationOutcome.class, response.body());
        assertThat(outcome.getIssue())
                .anyMatch(i -> i.getSeverity() == OperationOutcome.IssueSeverity.ERROR
                        && i.getDiagnostics().contains("Ablation Plannd")
                        && i.getDiagnostics().contains("line "));

        parameters.getParameterFirstRep().setResource(libraryWith(withVersion(originalCql, "1.0.4")));
        OperationOutcome ok = FHIR.newJsonParser()
                .parseResource(
                        OperationOutcome.class,
                        Http.send(
                                        "POST",
                                        base() + "/fhir/Library/$validate-rules",
                                        FHIR.newJsonParser().encodeResourceToString(parameters),
                                        Map.of(
                                                "Content-Type",
                                                "application/fhir+json",
                                                "Authorization",
                                                "Bearer " + authorToken()))
                                .body());
        assertThat(ok.getIssue()).noneMatch(i -> i.getSeverity() == OperationOutcome.IssueSeverity.ERROR);
        assertThat(FHIR.newJsonParser()
                        .parseResource(
                                Library.class,
                                Http.get(base() + "/fhir/Library/" + LIBRARY, authorToken())
                                        .body())
                        .getVersion())
                .isEqualTo("1.0.0");
    }

    @Test
    void aRuleThatFailsAtRunTimeGivesAnInfoCardAndTheOthersStillAnswer() {
        // The publish gate refuses such rules (PublishGateIT); put them in service directly, as a node of an
        // older release could, to see that a failing rule never silences the others.
        String failing = withVersion(originalCql, "1.0.5")
                .replace(
                        "define \"R5 Applies\":\n  \"NRAS Status\" = 'mutated' and \"Ablation Planned\"",
                        "define \"R5 Applies\":\n  singleton from { \"Ablation Planned\", \"Ablation Planned\" or true }");
        assertThat(failing).contains("singleton from");
        RuleSetBuilder.Result built = ruleCache.validate(repository.load().with(libraryWith(failing)));
        assertThat(built.ok()).as(built.problems().toString()).isTrue();
        ruleCache.swap(built.ruleSet().orElseThrow());
        try {
            JsonNode body = patientView("crlm-demo-01");
            CdsHooksShape.assertServiceResponse(body);
            assertThat(CdsHooksShape.ruleIds(body)).containsExactlyInAnyOrder("R1", "R2", "R8", "RULE-ERROR");
            JsonNode info = body.path("cards").get(body.path("cards").size() - 1);
            assertThat(info.path("indicator").asText()).isEqualTo("info");
            assertThat(info.path("summary").asText()).contains("could not run");
            assertThat(info.path("detail").asText()).contains("R5");
        } finally {
            ruleCache.rebuild(repository.load());
        }
    }

    @Test
    void devModePublishesCqlOnSaveAndKeepsTheLastGoodRulesOnABrokenSave() throws Exception {
        Path file = CQL_DIR.resolve(LIBRARY + ".cql");
        String text = Files.readString(file);
        Files.writeString(
                file,
                withVersion(text, "1.0.6").replace("context Patient", "// Saved in dev mode.\ncontext Patient"),
                StandardCharsets.UTF_8);
        awaitRulesVersion("1.0.6");
        assertThat(ruleIds("crlm-demo-02")).containsExactly("R6");

        Files.writeString(
                file,
                withVersion(text, "1.0.7").replace("define \"R3 Applies\":", "define \"R3 Applies\" oops"),
                StandardCharsets.UTF_8);
        // The watcher saw the broken save and refused it (not merely: nothing happened yet).
        await().atMost(Duration.ofSeconds(15))
                .untilAsserted(() -> assertThat(devMode.lastAttempt()).hasValueSatisfying(a -> {
                    assertThat(a.version()).isEqualTo("1.0.7");
                    assertThat(a.published()).isFalse();
                    assertThat(String.join(" ", a.problems())).contains("line");
                }));
        assertThat(currentRulesVersion()).isEqualTo("1.0.6");
        assertThat(ruleIds("crlm-demo-02")).containsExactly("R6");
    }

    // ---- helpers ----

    /** The CQL with only its own library header's version changed (includes keep theirs). */
    private static String withVersion(String cql, String version) {
        return cql.replaceFirst(
                "library CRLMAblationRules version '[^']+'", "library CRLMAblationRules version '" + version + "'");
    }

    private String authorToken() {
        return keys().fhirToken("user/*.read", TestKeys.AUTHORING_SCOPE);
    }

    private Http.Response publish(String cql, String token) {
        return putLibrary(libraryWith(cql), token);
    }

    private Library libraryWith(String cql) {
        Library library = FHIR.newJsonParser().parseResource(Library.class, originalLibraryJson);
        library.setVersion(cql.replaceAll("(?s).*library CRLMAblationRules version '([^']+)'.*", "$1"));
        library.getContent().clear();
        library.addContent().setContentType("text/cql").setData(cql.getBytes(StandardCharsets.UTF_8));
        library.setMeta(null);
        return library;
    }

    private Http.Response putLibrary(Library library, String token) {
        Map<String, String> headers = token == null
                ? Map.of("Content-Type", "application/fhir+json")
                : Map.of("Content-Type", "application/fhir+json", "Authorization", "Bearer " + token);
        return Http.send(
                "PUT",
                base() + "/fhir/Library/" + LIBRARY,
                FHIR.newJsonParser().encodeResourceToString(library),
                headers);
    }

    private static String cqlOf(String libraryJson) {
        Library library = FHIR.newJsonParser().parseResource(Library.class, libraryJson);
        return library.getContent().stream()
                .filter(c -> "text/cql".equals(c.getContentType()))
                .map(c -> new String(c.getData(), StandardCharsets.UTF_8))
                .findFirst()
                .orElseThrow();
    }

    private static int lineOf(String text, String needle) {
        String before = text.substring(0, text.indexOf(needle));
        return (int) before.chars().filter(c -> c == '\n').count() + 1;
    }

    private JsonNode patientView(String patient) {
        Http.Response response = cds.patientView(patient);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    private Set<String> ruleIds(String patient) {
        return new TreeSet<>(CdsHooksShape.ruleIds(patientView(patient)));
    }

    private String currentRulesVersion() {
        JsonNode overview =
                Http.get(base() + "/console/api/overview", authorToken()).json();
        for (JsonNode library : overview.path("libraries")) {
            if (LIBRARY.equals(library.path("name").asText())) {
                return library.path("version").asText();
            }
        }
        return null;
    }

    private void awaitRulesVersion(String version) {
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(() ->
                        assertThat(currentRulesVersion()).as("rules version").isEqualTo(version));
    }
}
