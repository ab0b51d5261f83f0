package org.crlm.cds.authoring;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.crlm.cds.cdshooks.PrefetchTemplates;
import org.crlm.cds.knowledge.Decision;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.RepositoryFiles;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.CqlLibraryCompiler;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.rules.RuleSetBuilder;
import org.crlm.cds.support.DirectoryCopy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new rule added the way an informatician adds one, with its files only and no Java: a CQL
 * define, its rule PlanDefinition, an action in the service PlanDefinition, its code in the rule
 * CodeSystem and a short YAML scenario. A copy of the repository with R9 added passes what CI
 * and the publish gate run: every library translates, every prefetch template expands, no card
 * quotes a threshold the CQL does not hold, every scenario (old and new) passes through the rule
 * test runner and the rule-check command exits 0, and R9 fires for its scenario with its facts.
 * Nothing here counts rules or resources: the copy has one rule more than the repository, whatever
 * the repository holds.
 */
class NewRuleWithFilesOnlyTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path repo;

    @Test
    void aRuleAddedWithItsFilesOnlyPassesTheSuiteAndFiresForItsScenario() throws IOException {
        Path cql = DirectoryCopy.copy(Path.of("cql"), repo.resolve("cql"));
        Path resources = DirectoryCopy.copy(Path.of("fhir-resources"), repo.resolve("fhir-resources"));
        addRuleNine(cql, resources);

        KnowledgeResources knowledge =
                new RepositoryFiles(FhirContext.forR4Cached()).knowledge(cql, resources, "http://crlm-cds.org/fhir");
        RuleSetBuilder.Result built = new RuleSetBuilder(new CqlLibraryCompiler()).build(knowledge);
        assertThat(built.problems()).as("the rules translate with R9").isEmpty();
        RuleSet rules = built.ruleSet().orElseThrow();

        // The checks the publish gate makes before it runs the scenarios.
        ServiceCatalog catalog = new ServiceCatalog();
        for (ServiceDefinition service : catalog.services(rules)) {
            service.prefetch().values().forEach(template -> PrefetchTemplates.expandValueSets(template, rules));
        }
        assertThat(CardThresholds.check(catalog.services(rules), rules)).isEmpty();
        ServiceDefinition patientView =
                catalog.service(rules, "crlm-ablation-patient-view").orElseThrow();
        assertThat(patientView.rules()).anyMatch(r -> r.ruleId().equals("R9"));

        // Every scenario, the repository's and R9's, passes; R9 fires for its own scenario only.
        RuleTestRunner runner = new RuleTestRunner(new DecisionEvaluator(new RuleEngine()), catalog);
        List<RuleTestCase> scenarios = RuleTestCase.all(cql.resolve("tests"));
        assertThat(scenarios).hasSize(RuleTestCase.all().size() + 1);
        for (RuleTestCase scenario : scenarios) {
            RuleTestRunner.Outcome outcome = runner.run(rules, scenario);
            assertThat(outcome.passed())
                    .as(scenario.id() + ": expected " + scenario.expectedRules() + ", fired " + outcome.fired() + " "
                            + outcome.failures() + " " + outcome.factProblems())
                    .isTrue();
            assertThat(outcome.fired().contains("R9"))
                    .as(scenario.id())
                    .isEqualTo(scenario.id().equals("r9-kras-and-nras-both-mutated"));
        }
        RuleTestCase r9 = RuleTestCase.load(cql.resolve("tests").resolve("r9-kras-and-nras-both-mutated.yaml"));
        Decision.RuleOutcome fired = runner.run(rules, r9).decision().rules().stream()
                .filter(o -> o.rule().ruleId().equals("R9"))
                .findFirst()
                .orElseThrow();
        assertThat(fired.facts()).contains("KRAS").contains("NRAS");

        // The informaticians' command (what CI runs on the repository) agrees.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit = RuleCheck.run(
                new String[] {"--cql", cql.toString(), "--resources", resources.toString()},
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String output = bytes.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(output).isZero();
        assertThat(output)
                .containsPattern("pass\\s+r9-kras-and-nras-both-mutated")
                .contains(" 0 failed");
    }

    /** R9's files: what an informatician writes (the card text is a data check, not a clinical claim). */
    private static void addRuleNine(Path cql, Path resources) throws IOException {
        Path library = cql.resolve("CRLMAblationRules.cql");
        Files.writeString(
                library,
                Files.readString(library)
                        + "\n// R9 (added with its files only): KRAS and NRAS both reported mutated.\n"
                        + "define \"R9 Applies\":\n"
                        + "  \"KRAS Status\" = 'mutated' and \"NRAS Status\" = 'mutated'\n\n"
                        + "define \"R9 Facts\":\n"
                        + "  \"Gene Text\"('KRAS', \"KRAS Status\", \"KRAS Change\") + '; '\n"
                        + "    + \"Gene Text\"('NRAS', \"NRAS Status\", \"NRAS Change\") + '.'\n");

        Path rules = resources.resolve("rules");
        ObjectNode r9 = (ObjectNode)
                JSON.readTree(rules.resolve("PlanDefinition-crlm-rule-r8.json").toFile());
        r9.put("id", "crlm-rule-r9");
        r9.put("url", "http://crlm-cds.org/fhir/PlanDefinition/crlm-rule-r9");
        r9.put("name", "CRLMRuleR9");
        r9.put("title", "R9: KRAS and NRAS both reported mutated");
        r9.put("description", "When CRLMAblationRules.\"R9 Applies\" is true, a card asking to check the two reports.");
        ObjectNode action = (ObjectNode) r9.get("action").get(0);
        action.put("id", "R9");
        action.put("title", "KRAS and NRAS both reported mutated: check both reports");
        action.put("description", "Both genes are reported mutated; check the two reports before relying on either.");
        ((ArrayNode) action.get("extension"))
                .removeIf(e -> e.path("url").asText().endsWith("/evidence-paragraph"));
        ObjectNode code = (ObjectNode) action.get("code").get(0).get("coding").get(0);
        code.put("code", "R9");
        code.put("display", "KRAS and NRAS both reported mutated");
        for (JsonNode expression : action.findValues("expression")) {
            if (expression.isObject() && expression.path("expression").asText().startsWith("R8 ")) {
                ((ObjectNode) expression)
                        .put("expression", expression.get("expression").asText().replace("R8 ", "R9 "));
            }
        }
        write(rules.resolve("PlanDefinition-crlm-rule-r9.json"), r9);

        Path service = rules.resolve("PlanDefinition-crlm-ablation-patient-view.json");
        ObjectNode patientView = (ObjectNode) JSON.readTree(service.toFile());
        ArrayNode actions = (ArrayNode) patientView.get("action").get(0).get("action");
        ObjectNode serviceAction = JSON.createObjectNode();
        serviceAction.put("id", "R9");
        serviceAction.put("title", "R9: KRAS and NRAS both reported mutated");
        serviceAction.put("definitionCanonical", "http://crlm-cds.org/fhir/PlanDefinition/crlm-rule-r9");
        actions.add(serviceAction);
        write(service, patientView);

        Path codeSystem = resources.resolve("terminology").resolve("CodeSystem-crlm-rule.json");
        ObjectNode ruleCodes = (ObjectNode) JSON.readTree(codeSystem.toFile());
        ((ArrayNode) ruleCodes.get("concept"))
                .addObject()
                .put("code", "R9")
                .put("display", "KRAS and NRAS both reported mutated");
        write(codeSystem, ruleCodes);

        Files.writeString(
                cql.resolve("tests").resolve("r9-kras-and-nras-both-mutated.yaml"),
                """
                title: KRAS and NRAS both reported mutated, no ablation planned → R9
                hook: patient-view
                evaluationDate: "2025-03-20T12:00:00Z"
                patient: r9-01
                data:
                  - resourceType: Observation
                    status: final
                    code: {coding: [{system: "http://loinc.org", code: "21702-6"}]}
                    effectiveDateTime: "2024-05-20T09:00:00Z"
                    valueCodeableConcept: {coding: [{system: "http://loinc.org", code: "LA11882-0", display: "Detected"}]}
                  - resourceType: Observation
                    status: final
                    code: {coding: [{system: "http://loinc.org", code: "69548-6"}]}
                    effectiveDateTime: "2024-05-20T09:00:00Z"
                    valueCodeableConcept: {coding: [{system: "http://loinc.org", code: "LA9633-4", display: "Present"}]}
                    component:
                      - code: {coding: [{system: "http://loinc.org", code: "48018-6"}]}
                        valueCodeableConcept: {coding: [{system: "http://www.genenames.org/geneId", code: "7989"}]}
                expectedRules: [R9]
                """);
    }

    private static void write(Path file, JsonNode json) throws IOException {
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
    }
}
