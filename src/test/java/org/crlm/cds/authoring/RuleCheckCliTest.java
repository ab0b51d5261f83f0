package org.crlm.cds.authoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.crlm.cds.support.DirectoryCopy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The informaticians' command: translate, run every test case, print a table, exit 0 only when all is well. */
class RuleCheckCliTest {

    @TempDir
    Path temp;

    private record Run(int exitCode, String output) {}

    private static Run run(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int code = RuleCheck.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Run(code, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theRepositoryTranslatesAndEveryCasePasses() {
        Run run = run();
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output())
                .contains("OK: every library translates")
                .containsPattern("\\d+ passed, 0 failed")
                .contains("pass   001-");
    }

    @Test
    void brokenCqlExitsOneWithLibraryLineAndColumn() throws IOException {
        Path cql = DirectoryCopy.copy(Path.of("cql"), temp.resolve("cql"));
        Path rules = cql.resolve("CRLMAblationRules.cql");
        Files.writeString(
                rules,
                Files.readString(rules)
                        .replace(
                                "\"KRAS Status\" = 'mutated' and \"Ablation Planned\"\n\ndefine \"R2",
                                "\"KRAS Status\" = 'mutated' and \"Ablation Plannned\"\n\ndefine \"R2"));
        Run run = run("--cql", cql.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.output())
                .containsPattern("ERROR CRLMAblationRules line \\d+, column \\d+: .*Ablation Plannned")
                .contains("no test case was run");
    }

    @Test
    void aFailingCaseExitsOneAndIsMarkedInTheTable() throws IOException {
        Path tests = DirectoryCopy.copy(Path.of("cql", "tests"), temp.resolve("tests"));
        Path first = tests.resolve("001-kras-variant-hgnc-prefixed-two-ablations.json");
        Files.writeString(
                first,
                Files.readString(first)
                        .replace("\"expectedRules\": [\n    \"R1\",\n    \"R2\"\n  ]", "\"expectedRules\": [\"R1\"]"));
        Run run = run("--tests", tests.toString());
        assertThat(run.exitCode()).as(run.output()).isEqualTo(1);
        assertThat(run.output())
                .contains("FAIL   001-kras-variant-hgnc-prefixed-two-ablations")
                .containsPattern("\\d+ passed, 1 failed");
    }

    @Test
    void aMalformedScenarioIsNamedWithItsLineInOneLineAndExitsOne() throws IOException {
        Path tests = DirectoryCopy.copy(Path.of("cql", "tests"), temp.resolve("tests"));
        Path first = tests.resolve("001-kras-variant-hgnc-prefixed-two-ablations.json");
        String text = Files.readString(first);
        int line = (int) text.substring(0, text.indexOf("\"expectedRules\""))
                        .chars()
                        .filter(c -> c == '\n')
                        .count()
                + 1;
        Files.writeString(
                first,
                text.replace("\"expectedRules\": [", "\"expectedRules\" [")
                        .replace("\"expectedRules\": [", "\"expectedRules\" ["));
        Run run = run("--tests", tests.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.output())
                .contains("FAIL malformed scenario")
                .contains("001-kras-variant-hgnc-prefixed-two-ablations.json line " + line)
                .doesNotContain("\tat ");
    }

    @Test
    void coverageNamesEveryRuleAndTheImpactListsChangedScenariosAndDemoPatients() throws IOException {
        // The baseline is a checkout whose threshold is 20 mm; the working copy keeps 30 mm.
        Path baseline = temp.resolve("baseline");
        Path cql = DirectoryCopy.copy(Path.of("cql"), baseline.resolve("cql"));
        DirectoryCopy.copy(Path.of("fhir-resources"), baseline.resolve("fhir-resources"));
        Path rules = cql.resolve("CRLMAblationRules.cql");
        Files.writeString(
                rules,
                Files.readString(rules)
                        .replace(
                                "parameter \"Large Lesion mm\" Decimal default 30.0",
                                "parameter \"Large Lesion mm\" Decimal default 20.0"));

        Run run = run("--impact-from", baseline.toString());

        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).contains("Rule coverage").containsPattern("\\n  R1 +\\d+");
        assertThat(run.output())
                .containsPattern("Impact against .*: [1-9]\\d* change\\(s\\) of cards")
                .contains("patient crlm-demo-02 (crlm-ablation-patient-view): R3 -> R6")
                .containsPattern("scenario \\S+: .* -> .* \\(expects .*\\)");
    }

    @Test
    void aShortYamlScenarioRunsLikeItsJsonTwin() throws IOException {
        Path tests = Files.createDirectories(temp.resolve("yaml-tests"));
        Path yaml = Files.copy(
                Path.of("src/test/resources/scenarios-yaml/061-no-kras-result-active-order-short.yaml"),
                tests.resolve("061-no-kras-result-active-order-short.yaml"));
        RuleTestCase shortForm = RuleTestCase.load(yaml);
        RuleTestCase json = RuleTestCase.load(Path.of("cql/tests/061-no-kras-result-active-order-patient-view.json"));
        assertThat(shortForm.expectedRules()).isEqualTo(json.expectedRules());
        assertThat(shortForm.patientId()).isEqualTo(json.patientId());

        Run run = run("--tests", tests.toString());

        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output())
                .contains("pass   061-no-kras-result-active-order-short")
                .contains("1 passed, 0 failed");
    }

    @Test
    void aMalformedYamlScenarioIsNamedWithItsLine() throws IOException {
        Path tests = Files.createDirectories(temp.resolve("bad-yaml"));
        Files.writeString(
                tests.resolve("900-broken.yaml"),
                "title: broken\nhook: patient-view\npatient: p1\ndata:\n  - resourceType: [unclosed\n");
        Run run = run("--tests", tests.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.output())
                .containsPattern("FAIL malformed scenario .*900-broken.yaml line [56]: ")
                .doesNotContain("\tat ");
    }

    @Test
    void aBadArgumentExitsTwo() {
        assertThat(run("--nonsense").exitCode()).isEqualTo(2);
    }
}
