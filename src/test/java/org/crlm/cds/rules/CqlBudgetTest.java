package org.crlm.cds.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.Enumerations.PublicationStatus;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/**
 * What a library and an evaluation may cost: a rule author's slip or a hostile publish is
 * refused with its line and column, or answered as a failed rule, and never hangs the translator
 * or a hook call. The timeouts here are hang guards only, far above the deadlines under test.
 */
class CqlBudgetTest {

    private static final Duration HANG_GUARD = Duration.ofSeconds(60);
    private static final String URL = "http://crlm-cds.org/fhir/Library/BudgetProbe";

    private final RuleSetBuilder builder = new RuleSetBuilder(new CqlLibraryCompiler());

    private static String library(String body) {
        return "library BudgetProbe version '1.0.0'\nusing FHIR version '4.0.1'\ninclude FHIRHelpers version '4.0.1'\n"
                + "context Patient\n" + body;
    }

    private RuleSetBuilder.Result build(String cql) {
        Library library = new Library();
        library.setId("budget-probe");
        library.setUrl(URL);
        library.setName("BudgetProbe");
        library.setVersion("1.0.0");
        library.setStatus(PublicationStatus.ACTIVE);
        library.addContent().setContentType("text/cql").setData(cql.getBytes(StandardCharsets.UTF_8));
        return assertTimeoutPreemptively(HANG_GUARD, () -> builder.build(KnowledgeResources.of(List.of(library))));
    }

    @Test
    void anExpressionInFiftyThousandBracketsIsRefusedWhereTheBoundIsCrossed() {
        String deep = "(".repeat(50_000) + "1" + ")".repeat(50_000);

        RuleSetBuilder.Result result = build(library("define \"Deep\":\n  " + deep + "\n"));

        assertThat(result.ok()).isFalse();
        CqlMessage problem = result.problems().get(0);
        assertThat(problem.message()).contains("nested more than 64", "max-nesting-depth");
        assertThat(problem.library()).isEqualTo("BudgetProbe");
        assertThat(problem.line()).isEqualTo(6);
        assertThat(problem.column()).isEqualTo(3 + 64);
    }

    @Test
    void aChainOfFortyThousandAdditionsIsRefusedAsTooDeep() {
        String chain = "1" + " + 1".repeat(40_000);

        RuleSetBuilder.Result result = build(library("define \"Long\":\n  " + chain + "\n"));

        assertThat(result.ok()).isFalse();
        assertThat(result.problems().get(0).message()).contains("levels deep", "max-expression-depth");
        assertThat(result.problems().get(0).line()).isEqualTo(6);
    }

    @Test
    void fortyThousandPrefixOperatorsAreRefused() {
        String prefixes = "not ".repeat(40_000) + "true";

        RuleSetBuilder.Result result = build(library("define \"Negated\":\n  " + prefixes + "\n"));

        assertThat(result.ok()).isFalse();
        assertThat(result.problems().get(0).message()).containsAnyOf("levels deep", "nested too deeply");
    }

    @Test
    void aLibraryBeyondTheSizeBoundIsRefusedBeforeTranslation() {
        String big = library("define \"Big\": '" + "x".repeat(CqlBudget.DEFAULT_MAX_SOURCE_CHARACTERS) + "'\n");
        long before = builder.compiler().translations();

        RuleSetBuilder.Result result = build(big);

        assertThat(result.ok()).isFalse();
        assertThat(result.problems().get(0).message()).contains("characters long", "max-source-characters");
        assertThat(builder.compiler().translations())
                .as("never given to the translator")
                .isEqualTo(before);
    }

    @Test
    void aTranslationPastItsProcessorTimeIsReportedNotAwaited() {
        CqlBudget tight = CqlBudget.DEFAULTS.withTranslationCpuLimit(Duration.ofMillis(1));
        CqlLibraryCompiler compiler = new CqlLibraryCompiler(4, tight);
        CqlSource source = CqlSource.of(library("define \"X\": 1\n"), "probe").orElseThrow();

        CompilationResult result = assertTimeoutPreemptively(HANG_GUARD, () -> compiler.compile(List.of(source)));

        assertThat(result.ok()).isFalse();
        assertThat(result.errors().get(0).message()).contains("given up", "processor time", "translation-cpu-limit");
    }

    @Test
    void aCatastrophicRegularExpressionIsRefusedWithItsPlace() {
        RuleSetBuilder.Result result = build(library("define \"Name\": 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'\n"
                + "define \"Odd Name\":\n  Matches(\"Name\", '(a+)+$')\n"));

        assertThat(result.ok()).isFalse();
        CqlMessage problem = result.problems().get(0);
        assertThat(problem.message()).contains("Matches", "backtracks exponentially");
        assertThat(problem.line()).isEqualTo(7);
    }

    @Test
    void regularExpressionsAreKnownAndSafeBeforeTheyArePublished() {
        assertThat(RegexLimits.catastrophic("(a+)+$")).isPresent();
        assertThat(RegexLimits.catastrophic("(a|aa)*b")).isPresent();
        assertThat(RegexLimits.catastrophic("^(\\w+\\s?)*$")).isPresent();
        assertThat(RegexLimits.catastrophic("(x{2,}){3,}")).isPresent();
        assertThat(RegexLimits.catastrophic("(?is).*\\b(liver|hepatic|segment [1-8ivx]+)\\b.*"))
                .isEmpty();
        assertThat(RegexLimits.catastrophic("(?i)\\s*(y?[cpr]|a)?N2[abc]?\\b.*"))
                .isEmpty();
        assertThat(RegexLimits.catastrophic("[(a+)+]*"))
                .as("brackets in a class are characters")
                .isEmpty();

        RuleSetBuilder.Result computed = build(library(
                "define \"Pattern\": Patient.id.value + '+'\n" + "define \"Odd\": Matches('aaa', \"Pattern\")\n"));
        assertThat(computed.problems())
                .anySatisfy(p -> assertThat(p.message()).contains("not known before evaluation"));

        RuleSetBuilder.Result invalid = build(library("define \"Odd\": Matches('aaa', 'a(b')\n"));
        assertThat(invalid.problems()).anySatisfy(p -> assertThat(p.message()).contains("invalid"));
    }

    @Test
    void anExpressionPastItsProcessorTimeFailsAndTheNextExpressionsStillAnswer() {
        // Polynomial backtracking no static check refuses: some seconds for n = 250, and it ends.
        String slow =
                "define \"Slow\": Matches('" + "a".repeat(250) + "', 'a*a*a*a*b')\n" + "define \"Quick\": 1 + 1 = 2\n";
        EvaluationSession session = session(slow, Duration.ofMillis(300), Duration.ofSeconds(15));

        ExpressionResult slowResult =
                assertTimeoutPreemptively(HANG_GUARD, () -> session.evaluate(new ExpressionRef(URL, "Slow")));
        ExpressionResult quickResult =
                assertTimeoutPreemptively(HANG_GUARD, () -> session.evaluate(new ExpressionRef(URL, "Quick")));

        assertThat(slowResult.failed()).isTrue();
        assertThat(slowResult.failure().errorType()).isEqualTo(EvaluationSession.TIMEOUT);
        assertThat(slowResult.failure().message()).contains("used more than 300 ms of processor time");
        assertThat(quickResult.failed()).isFalse();
        assertThat(quickResult.isTrue()).isTrue();
    }

    @Test
    void withinOneDecisionAnExpressionPastItsProcessorTimeFailsAndTheRestStillAnswer() {
        // The decision's expressions share one evaluation thread: the slow one is given up on
        // and the decision goes on, on a fresh engine, with what it had already evaluated.
        String cql = "define \"Before\": 2 + 2 = 4\n" + "define \"Slow\": Matches('" + "a".repeat(250)
                + "', 'a*a*a*a*b')\n" + "define \"Quick\": 1 + 1 = 2\n";
        EvaluationSession session = session(cql, Duration.ofMillis(300), Duration.ofSeconds(15));

        List<ExpressionResult> results = assertTimeoutPreemptively(
                HANG_GUARD,
                () -> session.run(() -> List.of(
                        session.evaluate(new ExpressionRef(URL, "Before")),
                        session.evaluate(new ExpressionRef(URL, "Slow")),
                        session.evaluate(new ExpressionRef(URL, "Quick")))));

        assertThat(results.get(0).isTrue()).isTrue();
        assertThat(results.get(1).failure().errorType()).isEqualTo(EvaluationSession.TIMEOUT);
        assertThat(results.get(1).failure().message()).contains("used more than 300 ms of processor time");
        assertThat(results.get(2).isTrue()).isTrue();
    }

    @Test
    void onceTheDecisionsDeadlineHasPassedTheRemainingExpressionsFailAtOnce() {
        String slow =
                "define \"Slow\": Matches('" + "a".repeat(250) + "', 'a*a*a*a*b')\n" + "define \"Quick\": 1 + 1 = 2\n";
        EvaluationSession session = session(slow, Duration.ofMillis(300), Duration.ofMillis(300));

        assertTimeoutPreemptively(HANG_GUARD, () -> session.evaluate(new ExpressionRef(URL, "Slow")));
        ExpressionResult after = session.evaluate(new ExpressionRef(URL, "Quick"));

        assertThat(after.failed()).isTrue();
        assertThat(after.failure().message()).contains("the decision's 300 ms had passed");
    }

    @Test
    void theRepositorysLibrariesUseAtMostHalfOfEachBound() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("cql"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".cql")).toList()) {
                String text = Files.readString(file);
                assertThat(text.length())
                        .as(file + " characters")
                        .isLessThan(CqlBudget.DEFAULT_MAX_SOURCE_CHARACTERS / 2);
                assertThat(CqlSourceLimits.depthOf(text))
                        .as(file + " parse-tree depth")
                        .isLessThan(CqlBudget.DEFAULT_MAX_EXPRESSION_DEPTH / 2);
            }
        }
    }

    /** A session on a library of the given CQL for one bare patient, under the given evaluation limits. */
    private EvaluationSession session(String cql, Duration cpuLimit, Duration decisionTimeout) {
        RuleSet rules = build(library(cql)).ruleSet().orElseThrow();
        RuleEngine engine = new RuleEngine(CqlBudget.DEFAULTS.withEvaluationLimits(cpuLimit, decisionTimeout));
        Patient patient = new Patient();
        patient.setId("budget-patient");
        return engine.open(
                rules,
                new PatientData("budget-patient", List.of(patient), ZonedDateTime.now(ZoneOffset.UTC)),
                Map.of());
    }
}
