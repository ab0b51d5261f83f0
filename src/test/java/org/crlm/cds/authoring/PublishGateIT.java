package org.crlm.cds.authoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.knowledge.KnowledgeLoader;
import org.crlm.cds.knowledge.KnowledgeRepository;
import org.crlm.cds.knowledge.KnowledgeSync;
import org.crlm.cds.knowledge.TrustedLoad;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSetBuilder;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.ScenarioChanges;
import org.crlm.cds.support.TestKeys;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.ValueSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The publish gate over everything the rules depend on. The four everyday actions that used to
 * break production without warning (a ValueSet with a mistyped url, a new version of the
 * included library CRLMFacts, a version number reused with other content, a ValueSet
 * published over FHIR and overwritten at restart) are refused with a clear reason or kept,
 * and the rules in service are unchanged. A candidate under which a rule fails to evaluate, or
 * a scenario changes its cards without saying so, is refused. Every test restores what it
 * published.
 */
class PublishGateIT extends AppIntegrationTest {

    private static final FhirContext FHIR = FhirContext.forR4Cached();
    private static final String RULES = "CRLMAblationRules";
    private static final String FACTS = "CRLMFacts";

    @Autowired
    KnowledgeLoader loader;

    @Autowired
    KnowledgeRepository repository;

    @Autowired
    RuleLibraryCache ruleCache;

    @Autowired
    KnowledgeSync knowledgeSync;

    @Autowired
    DaoRegistry daoRegistry;

    @Autowired
    DevModeWatcher devMode;

    @Autowired
    ScenarioStore scenarios;

    private CdsClient cds;
    private Map<String, String> originals;
    private Map<String, Set<String>> cardsBefore;

    @BeforeEach
    void remember() {
        cds = new CdsClient(base(), keys());
        originals = new java.util.LinkedHashMap<>();
        for (String ref : new String[] {
            "Library/" + RULES,
            "Library/" + FACTS,
            "Library/CRLMDataGaps",
            "ValueSet/kras-gene",
            "PlanDefinition/crlm-rule-r3",
            "PlanDefinition/crlm-rule-r6"
        }) {
            originals.put(ref, Http.get(base() + "/fhir/" + ref, author()).body());
        }
        cardsBefore = new java.util.LinkedHashMap<>();
        for (String patient : new String[] {"crlm-demo-01", "crlm-demo-02", "crlm-demo-03"}) {
            cardsBefore.put(patient, ruleIds(patient));
        }
    }

    @AfterEach
    void restore() {
        // Put back every resource whose stored content differs from the original, as one transaction
        // (CRLMFacts and CRLMAblationRules name each other's versions), with trusted server-side writes
        // so the restore does not depend on what the test left behind.
        Bundle transaction = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        originals.forEach((ref, json) -> {
            Resource original = (Resource) FHIR.newJsonParser().parseResource(json);
            String now = Http.get(base() + "/fhir/" + ref, author()).body();
            if (!org.crlm.cds.knowledge.PublicationStamp.content(
                            FHIR.newJsonParser().parseResource(now))
                    .equals(org.crlm.cds.knowledge.PublicationStamp.content(original))) {
                original.setMeta(null);
                transaction
                        .addEntry()
                        .setResource(original)
                        .getRequest()
                        .setMethod(Bundle.HTTPVerb.PUT)
                        .setUrl(ref);
            }
        });
        if (!transaction.getEntry().isEmpty()) {
            daoRegistry.getSystemDao().transaction(TrustedLoad.request(), transaction);
        }
        ruleCache.rebuild(repository.load());
        cardsBefore.forEach((patient, cards) ->
                assertThat(ruleIds(patient)).as("restored cards of " + patient).isEqualTo(cards));
    }

    // ---- 1. a ValueSet published with a mistyped url ----

    @Test
    void aValueSetWithAMistypedUrlIsRefusedAndEveryServiceKeepsAnswering() {
        ValueSet krasGene = read(ValueSet.class, "ValueSet/kras-gene");
        krasGene.setUrl("http://crlm-cds.org/fhir/ValueSet/kras-gen");
        krasGene.setVersion("1.0.1");

        Http.Response put = put("ValueSet/kras-gene", krasGene);

        assertThat(put.status()).as(put.body()).isEqualTo(422);
        assertThat(diagnostics(put))
                .contains("http://crlm-cds.org/fhir/ValueSet/kras-gene")
                .contains("no ValueSet defines");
        assertRulesUnchanged();
        assertThat(read(ValueSet.class, "ValueSet/kras-gene").getUrl())
                .isEqualTo("http://crlm-cds.org/fhir/ValueSet/kras-gene");
        assertThat(cds.discovery().status()).isEqualTo(200);
        assertThat(Http.get(base() + "/actuator/health/readiness", null).status())
                .isEqualTo(200);
    }

    @Test
    void aValueSetLeftWithoutCodesIsRefused() {
        ValueSet krasGene = read(ValueSet.class, "ValueSet/kras-gene");
        krasGene.setVersion("1.0.2");
        krasGene.getCompose().getInclude().clear();
        krasGene.getCompose().addInclude().setSystem("http://www.genenames.org");
        krasGene.setExpansion(null);

        Http.Response put = put("ValueSet/kras-gene", krasGene);

        assertThat(put.status()).as(put.body()).isEqualTo(422);
        assertThat(diagnostics(put)).contains("kras-gene").contains("has no codes");
        assertRulesUnchanged();
    }

    // ---- 2. bumping the version of the included library ----

    @Test
    void aNewVersionOfTheIncludedLibraryAloneIsRefusedBecauseTheRulesStillIncludeTheOldOne() {
        Library facts = withCql(read(Library.class, "Library/" + FACTS), FACTS, "1.0.1", null);

        Http.Response put = put("Library/" + FACTS, facts);

        assertThat(put.status()).as(put.body()).isEqualTo(422);
        // Every library that still includes CRLMFacts 1.0.0 (the rules and the GAPS library) is named.
        assertThat(diagnostics(put))
                .contains("CRLMAblationRules")
                .contains("CRLMDataGaps")
                .contains("CRLMFacts, version 1.0.0");
        assertRulesUnchanged();
        assertThat(read(Library.class, "Library/" + FACTS).getVersion()).isEqualTo("1.0.0");
    }

    @Test
    void bothLibrariesInOneTransactionAreAcceptedAndServeTheSameCards() {
        Library facts = withCql(read(Library.class, "Library/" + FACTS), FACTS, "1.0.1", null);
        Library rules = withCql(
                read(Library.class, "Library/" + RULES),
                RULES,
                "1.0.11",
                cql -> cql.replace("include CRLMFacts version '1.0.0'", "include CRLMFacts version '1.0.1'"));
        Bundle transaction = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        transaction
                .addEntry()
                .setResource(facts)
                .getRequest()
                .setMethod(Bundle.HTTPVerb.PUT)
                .setUrl("Library/" + FACTS);
        transaction
                .addEntry()
                .setResource(rules)
                .getRequest()
                .setMethod(Bundle.HTTPVerb.PUT)
                .setUrl("Library/" + RULES);
        // The GAPS library includes CRLMFacts too: it moves to the new version in the same step.
        Library gaps = withCql(
                read(Library.class, "Library/CRLMDataGaps"),
                "CRLMDataGaps",
                "1.0.1",
                cql -> cql.replace("include CRLMFacts version '1.0.0'", "include CRLMFacts version '1.0.1'"));
        transaction
                .addEntry()
                .setResource(gaps)
                .getRequest()
                .setMethod(Bundle.HTTPVerb.PUT)
                .setUrl("Library/CRLMDataGaps");

        // A transaction at the server root needs */*.write besides the authoring scope.
        String token = keys().fhirToken("user/*.read", "user/*.write", TestKeys.AUTHORING_SCOPE);
        Http.Response response = Http.send(
                "POST",
                base() + "/fhir",
                FHIR.newJsonParser().encodeResourceToString(transaction),
                Map.of("Content-Type", "application/fhir+json", "Authorization", "Bearer " + token));

        assertThat(response.status()).as(response.body()).isEqualTo(200);
        cardsBefore.forEach(
                (patient, cards) -> assertThat(ruleIds(patient)).as(patient).isEqualTo(cards));
        assertThat(cds.patientView("crlm-demo-01")
                        .json()
                        .path("cards")
                        .get(0)
                        .path("extension")
                        .path("org.crlm-cds.rule")
                        .path("libraryVersion")
                        .asText())
                .isEqualTo("1.0.11");
    }

    // ---- 3. a version number reused with other content ----

    @Test
    void aPublishedLibraryVersionCannotBeReusedWithOtherContentOverHttp() {
        Library changed = withCql(
                read(Library.class, "Library/" + RULES),
                RULES,
                "1.0.0",
                cql -> cql.replace("context Patient", "// a comment only\ncontext Patient"));
        Http.Response sameVersion = put("Library/" + RULES, changed);
        assertThat(sameVersion.status()).as(sameVersion.body()).isEqualTo(422);
        assertThat(diagnostics(sameVersion)).contains("version 1.0.0 is already published with different content");

        // Publish 1.0.12, go back to 1.0.0 (the same content as before: allowed), then reuse 1.0.12 for other content.
        Library v12 = withCql(
                read(Library.class, "Library/" + RULES),
                RULES,
                "1.0.12",
                cql -> cql.replace("context Patient", "// 1.0.12\ncontext Patient"));
        assertThat(put("Library/" + RULES, v12).status()).isEqualTo(200);
        Library back = (Library) FHIR.newJsonParser().parseResource(originals.get("Library/" + RULES));
        back.setMeta(null);
        Http.Response rollBack = put("Library/" + RULES, back);
        assertThat(rollBack.status()).as(rollBack.body()).isEqualTo(200);
        Library reused = withCql(
                read(Library.class, "Library/" + RULES),
                RULES,
                "1.0.12",
                cql -> cql.replace("context Patient", "// other content\ncontext Patient"));
        Http.Response reuse = put("Library/" + RULES, reused);
        assertThat(reuse.status()).as(reuse.body()).isEqualTo(422);
        assertThat(diagnostics(reuse)).contains("version 1.0.12 is already published with different content");
        assertThat(read(Library.class, "Library/" + RULES).getVersion()).isEqualTo("1.0.0");
    }

    @Test
    void cardTextCannotChangeWithoutANewPlanDefinitionVersion() {
        PlanDefinition r3 = read(PlanDefinition.class, "PlanDefinition/crlm-rule-r3");
        r3.getActionFirstRep().setTitle(r3.getActionFirstRep().getTitle() + " (edited)");
        Http.Response put = put("PlanDefinition/crlm-rule-r3", r3);
        assertThat(put.status()).as(put.body()).isEqualTo(422);
        assertThat(diagnostics(put)).contains("PlanDefinition/crlm-rule-r3 version 1.0.0 is already published");
    }

    @Test
    void theConsoleValidationReportsAReusedVersion() {
        String cql =
                cqlOf(read(Library.class, "Library/" + RULES)).replace("context Patient", "// edited\ncontext Patient");
        JsonResult result = new JsonResult(
                Http.postJson(base() + "/console/api/validate", Http.write(Map.of("cql", cql)), author()));
        assertThat(result.response.status()).isEqualTo(200);
        assertThat(result.response.json().path("ok").asBoolean()).isFalse();
        assertThat(result.response.body()).contains("version 1.0.0 is already published with different content");
    }

    @Test
    void devModeDoesNotPublishChangedCqlUnderThePublishedVersion() throws Exception {
        java.nio.file.Path file = CQL_DIR.resolve(RULES + ".cql");
        String text = java.nio.file.Files.readString(file);
        try {
            java.nio.file.Files.writeString(
                    file, text.replace("context Patient", "// saved without a new version\ncontext Patient"));
            await().atMost(Duration.ofSeconds(15))
                    .untilAsserted(() -> assertThat(devMode.lastAttempt()).hasValueSatisfying(a -> {
                        assertThat(a.version()).isEqualTo("1.0.0");
                        assertThat(a.published()).isFalse();
                        assertThat(String.join(" ", a.problems())).contains("already published with different content");
                    }));
            assertThat(cqlOf(read(Library.class, "Library/" + RULES))).isEqualTo(text);
        } finally {
            java.nio.file.Files.writeString(file, text);
        }
    }

    // ---- 4. a ValueSet published only over FHIR survives a restart ----

    @Test
    void aValueSetPublishedOverFhirSurvivesTheLoaderAtRestart() {
        ValueSet krasGene = read(ValueSet.class, "ValueSet/kras-gene");
        krasGene.setVersion("1.0.3");
        krasGene.getCompose()
                .addInclude()
                .setSystem("http://hospital.example.org/CodeSystem/local-genes")
                .addConcept()
                .setCode("KRAS-LOCAL");
        assertThat(put("ValueSet/kras-gene", krasGene).status()).isEqualTo(200);

        loader.load();

        ValueSet stored = read(ValueSet.class, "ValueSet/kras-gene");
        assertThat(stored.getVersion()).isEqualTo("1.0.3");
        assertThat(stored.getCompose().getInclude()).anyMatch(i -> i.getSystem().endsWith("local-genes"));
        assertThat(stored.getExtensionByUrl("http://crlm-cds.org/fhir/StructureDefinition/published-by")
                        .getValue()
                        .primitiveValue())
                .isNotBlank();
        assertThat(ruleCache.current().orElseThrow().valueSetCodes("http://crlm-cds.org/fhir/ValueSet/kras-gene"))
                .contains("http://hospital.example.org/CodeSystem/local-genes|KRAS-LOCAL");
    }

    @Test
    void aSameVersionValueSetPublishedBeforeVersionsWereCheckedIsKeptToo() {
        // Written as an older server would have stored it: the same version, other content, stamped as a publish.
        ValueSet krasGene = read(ValueSet.class, "ValueSet/kras-gene");
        krasGene.getCompose()
                .addInclude()
                .setSystem("http://hospital.example.org/CodeSystem/local-genes")
                .addConcept()
                .setCode("KRAS-OLD");
        krasGene.addExtension(
                "http://crlm-cds.org/fhir/StructureDefinition/published-by", new StringType("an informatician"));
        daoRegistry.getResourceDao(ValueSet.class).update(krasGene, TrustedLoad.request());

        loader.load();

        assertThat(read(ValueSet.class, "ValueSet/kras-gene").getCompose().getInclude())
                .anyMatch(i -> i.getSystem().endsWith("local-genes"));
    }

    // ---- the scenario store: failures and changed cards ----

    @Test
    void aCandidateUnderWhichARuleFailsToEvaluateIsRefused() {
        Library failing = withCql(
                read(Library.class, "Library/" + RULES),
                RULES,
                "1.0.13",
                cql -> cql.replace(
                        "define \"R5 Applies\":\n  \"NRAS Status\" = 'mutated' and \"Ablation Planned\"",
                        "define \"R5 Applies\":\n  singleton from { \"Ablation Planned\", \"Ablation Planned\" or true }"));
        assertThat(cqlOf(failing)).contains("singleton from");

        Http.Response put = put("Library/" + RULES, failing);

        assertThat(put.status()).as(put.body()).isEqualTo(422);
        assertThat(diagnostics(put)).contains("rule R5 fails to evaluate");
        assertRulesUnchanged();
    }

    @Test
    void changedCardsAreRefusedAndListedUntilTheSameRequestUpdatesTheirExpectations() {
        // R2 from three planned lesions instead of two: a threshold no card text states in figures.
        Library lowered = withCql(
                read(Library.class, "Library/" + RULES),
                RULES,
                "1.0.14",
                cql -> cql.replace(
                        "parameter \"Multiple Ablation Count\" Integer default 2",
                        "parameter \"Multiple Ablation Count\" Integer default 3"));

        Http.Response refused = put("Library/" + RULES, lowered);

        assertThat(refused.status()).as(refused.body()).isEqualTo(422);
        Map<String, ScenarioChanges.Change> changes = ScenarioChanges.of(outcome(refused));
        assertThat(changes).as(refused.body()).isNotEmpty();
        assertThat(changes.values()).allSatisfy(c -> assertThat(c.after()).isNotEqualTo(c.before()));
        assertRulesUnchanged();

        Http.Response accepted =
                put("Library/" + RULES, ScenarioChanges.expecting(lowered, ScenarioChanges.after(changes)));
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(200);
        assertThat(ruleIds("crlm-demo-10"))
                .filteredOn(rule -> !rule.equals("GAPS"))
                .containsExactly("R1");
        assertThat(read(Library.class, "Library/" + RULES).getExtension())
                .noneMatch(e -> e.getUrl().equals(ScenarioChanges.EXPECTATION));

        // Back to 1.0.0: the scenarios change again, so the restore names their original expectations.
        Library back = (Library) FHIR.newJsonParser().parseResource(originals.get("Library/" + RULES));
        back.setMeta(null);
        Http.Response restored =
                put("Library/" + RULES, ScenarioChanges.expecting(back, ScenarioChanges.before(changes)));
        assertThat(restored.status()).as(restored.body()).isEqualTo(200);
    }

    // ---- card text follows the thresholds ----

    @Test
    void aThresholdChangeIsRefusedWhileACardStillStatesTheOldNumber() {
        Library lowered = withCql(
                read(Library.class, "Library/" + RULES),
                RULES,
                "1.0.16",
                cql -> cql.replace(
                        "parameter \"Large Lesion mm\" Decimal default 30.0",
                        "parameter \"Large Lesion mm\" Decimal default 25.0"));

        Http.Response put = put("Library/" + RULES, lowered);

        assertThat(put.status()).as(put.body()).isEqualTo(422);
        assertThat(diagnostics(put))
                .contains("rule R3 card text")
                .contains("states 30 mm")
                .contains("[25.0]")
                .contains("rule R6 card text");
        assertRulesUnchanged();
    }

    @Test
    void aThresholdChangeWithItsCardTextAndExpectationsInOneTransactionIsAccepted() {
        Library lowered = withCql(
                read(Library.class, "Library/" + RULES),
                RULES,
                "1.0.17",
                cql -> cql.replace(
                        "parameter \"Large Lesion mm\" Decimal default 30.0",
                        "parameter \"Large Lesion mm\" Decimal default 25.0"));
        Bundle transaction = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        transaction
                .addEntry()
                .setResource(lowered)
                .getRequest()
                .setMethod(Bundle.HTTPVerb.PUT)
                .setUrl("Library/" + RULES);
        for (String rule : new String[] {"crlm-rule-r3", "crlm-rule-r6"}) {
            PlanDefinition plan = read(PlanDefinition.class, "PlanDefinition/" + rule);
            plan.setVersion("1.0.1");
            plan.getAction().forEach(action -> {
                action.setTitle(action.getTitle().replace("30 mm", "25 mm"));
                action.getCode().forEach(code -> code.getCoding()
                        .forEach(c -> c.setDisplay(
                                c.getDisplay() == null ? null : c.getDisplay().replace("30 mm", "25 mm"))));
            });
            transaction
                    .addEntry()
                    .setResource(plan)
                    .getRequest()
                    .setMethod(Bundle.HTTPVerb.PUT)
                    .setUrl("PlanDefinition/" + rule);
        }
        String token = keys().fhirToken("user/*.read", "user/*.write", TestKeys.AUTHORING_SCOPE);
        Map<String, String> headers =
                Map.of("Content-Type", "application/fhir+json", "Authorization", "Bearer " + token);

        Http.Response refused =
                Http.send("POST", base() + "/fhir", FHIR.newJsonParser().encodeResourceToString(transaction), headers);
        assertThat(refused.status()).as(refused.body()).isEqualTo(422);
        assertThat(diagnostics(refused)).doesNotContain("card text");
        Map<String, ScenarioChanges.Change> changes = ScenarioChanges.of(outcome(refused));
        assertThat(changes).isNotEmpty();
        try {
            ScenarioChanges.expecting(lowered, ScenarioChanges.after(changes));
            Http.Response accepted = Http.send(
                    "POST", base() + "/fhir", FHIR.newJsonParser().encodeResourceToString(transaction), headers);

            assertThat(accepted.status()).as(accepted.body()).isEqualTo(200);
            JsonNode cards = cds.patientView("crlm-demo-09").json();
            assertThat(CdsHooksShape.ruleIds(cards)).contains("R3");
            for (JsonNode card : cards.path("cards")) {
                if ("R3".equals(card.path("source").path("topic").path("code").asText())) {
                    assertThat(card.path("summary").asText())
                            .contains("25 mm or more")
                            .doesNotContain("30 mm");
                }
            }
        } finally {
            scenarios.updateExpectations(ScenarioChanges.before(changes));
        }
    }

    // ---- readiness follows the rules in service ----

    @Test
    void readinessGoesDownWhileTheRulesInServiceCannotEvaluate() {
        // As if the gate had been bypassed (a node of an older release, a database restore): a rule set
        // under which R5 fails for every patient with an ablation planned is put in service.
        Library failing = withCql(
                read(Library.class, "Library/" + RULES),
                RULES,
                "1.0.15",
                cql -> cql.replace(
                        "define \"R5 Applies\":\n  \"NRAS Status\" = 'mutated' and \"Ablation Planned\"",
                        "define \"R5 Applies\":\n  singleton from { \"Ablation Planned\", \"Ablation Planned\" or true }"));
        RuleSetBuilder.Result built = ruleCache.validate(repository.load().with(failing));
        assertThat(built.ok()).as(built.problems().toString()).isTrue();
        // Earlier tests published over FHIR: take those changes in now, so the sync timer does not
        // rebuild from the database between the swap below and the assertions on it.
        knowledgeSync.syncNow();

        ruleCache.swap(built.ruleSet().orElseThrow());

        assertThat(Http.get(base() + "/actuator/health/readiness", null).status())
                .isEqualTo(503);
        assertThat(Http.get(base() + "/actuator/prometheus", keys().fhirToken(TestKeys.METRICS_SCOPE))
                        .body())
                .contains("cds_rules_evaluable 0.0");

        ruleCache.rebuild(repository.load());

        assertThat(Http.get(base() + "/actuator/health/readiness", null).status())
                .isEqualTo(200);
        assertThat(Http.get(base() + "/actuator/prometheus", keys().fhirToken(TestKeys.METRICS_SCOPE))
                        .body())
                .contains("cds_rules_evaluable 1.0");
    }

    // ---- helpers ----

    private void assertRulesUnchanged() {
        cardsBefore.forEach((patient, cards) ->
                assertThat(ruleIds(patient)).as("cards of " + patient).isEqualTo(cards));
    }

    private record JsonResult(Http.Response response) {}

    private String author() {
        return keys().fhirToken("user/*.read", TestKeys.AUTHORING_SCOPE);
    }

    private <T extends Resource> T read(Class<T> type, String ref) {
        T resource = FHIR.newJsonParser()
                .parseResource(type, Http.get(base() + "/fhir/" + ref, author()).body());
        resource.setMeta(null);
        return resource;
    }

    private Http.Response put(String ref, Resource resource) {
        return Http.send(
                "PUT",
                base() + "/fhir/" + ref,
                FHIR.newJsonParser().encodeResourceToString(resource),
                Map.of("Content-Type", "application/fhir+json", "Authorization", "Bearer " + author()));
    }

    private static OperationOutcome outcome(Http.Response response) {
        return FHIR.newJsonParser().parseResource(OperationOutcome.class, response.body());
    }

    private static String diagnostics(Http.Response response) {
        StringBuilder text = new StringBuilder();
        outcome(response).getIssue().forEach(i -> text.append(i.getDiagnostics())
                .append('\n'));
        return text.toString();
    }

    private static Library withCql(
            Library library, String name, String version, java.util.function.UnaryOperator<String> edit) {
        String cql = cqlOf(library)
                .replaceFirst("library " + name + " version '[^']+'", "library " + name + " version '" + version + "'");
        if (edit != null) {
            cql = edit.apply(cql);
        }
        library.setVersion(version);
        library.getContent().clear();
        library.addContent().setContentType("text/cql").setData(cql.getBytes(StandardCharsets.UTF_8));
        return library;
    }

    private static String cqlOf(Library library) {
        return RuleSetBuilder.cqlText(library).orElseThrow();
    }

    private Set<String> ruleIds(String patient) {
        Http.Response response = cds.patientView(patient);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return new TreeSet<>(CdsHooksShape.ruleIds(response.json()));
    }
}
