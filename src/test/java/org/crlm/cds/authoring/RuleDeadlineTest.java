package org.crlm.cds.authoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ca.uhn.fhir.context.FhirContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Map;
import org.crlm.cds.knowledge.Decision;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.KnowledgeProperties;
import org.crlm.cds.knowledge.RepositoryFiles;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.rules.CqlBudget;
import org.crlm.cds.rules.CqlLibraryCompiler;
import org.crlm.cds.rules.EvaluationSession;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.rules.RuleSetBuilder;
import org.crlm.cds.support.InMemoryExpectations;
import org.hl7.fhir.r4.model.Library;
import org.junit.jupiter.api.Test;

/**
 * A rule whose condition runs past the evaluation deadline (here a regular expression that
 * backtracks polynomially, which no check before publishing refuses): for the patient it is a
 * failed rule and every other rule still answers; at the publish gate the candidate is refused
 * at the first scenario that runs it. The limit is 300 ms of processor time here; the timeouts of the test are
 * hang guards only.
 */
class RuleDeadlineTest {

    private static final Duration HANG_GUARD = Duration.ofSeconds(120);
    private static final String R5 = "define \"R5 Applies\":\n  \"NRAS Status\" = 'mutated' and \"Ablation Planned\"";

    private final CqlBudget tight =
            CqlBudget.DEFAULTS.withEvaluationLimits(Duration.ofMillis(300), Duration.ofSeconds(30));
    private final DecisionEvaluator evaluator = new DecisionEvaluator(new RuleEngine(tight));
    private final InMemoryExpectations expectations = InMemoryExpectations.create();

    /** The repository's rules with R5's condition first matching a text that takes seconds to match. */
    private static KnowledgeResources slowR5() {
        KnowledgeResources knowledge = new RepositoryFiles(FhirContext.forR4Cached())
                .knowledge(Path.of("cql"), Path.of("fhir-resources"), "http://crlm-cds.org/fhir");
        Library rules = knowledge.libraries().stream()
                .filter(l -> "CRLMAblationRules".equals(l.getName()))
                .findFirst()
                .orElseThrow()
                .copy();
        String cql = RuleSetBuilder.cqlText(rules).orElseThrow();
        assertThat(cql).contains(R5);
        String slow = cql.replace(
                R5,
                "define \"R5 Applies\":\n  Matches('" + "a".repeat(250) + "', 'a*a*a*a*b')\n"
                        + "    or (\"NRAS Status\" = 'mutated' and \"Ablation Planned\")");
        rules.getContent().clear();
        rules.addContent().setContentType("text/cql").setData(slow.getBytes(StandardCharsets.UTF_8));
        return knowledge.with(rules);
    }

    @Test
    void aRuleThatTimesOutFailsAndTheOtherRulesStillAnswer() {
        RuleSet rules = new RuleSetBuilder(new CqlLibraryCompiler())
                .build(slowR5())
                .ruleSet()
                .orElseThrow();
        RuleTestCase kras =
                RuleTestCase.load(RuleTestCase.DIR.resolve("002-kras-variant-geneid-bare-code-dna-change.json"));

        RuleTestRunner.Outcome outcome = assertTimeoutPreemptively(
                HANG_GUARD, () -> new RuleTestRunner(evaluator, new ServiceCatalog()).run(rules, kras));

        Decision.RuleOutcome r5 = outcome.decision().rules().stream()
                .filter(r -> r.rule().ruleId().equals("R5"))
                .findFirst()
                .orElseThrow();
        assertThat(r5.status()).isEqualTo(Decision.Status.FAILED);
        assertThat(r5.failure().errorType()).isEqualTo(EvaluationSession.TIMEOUT);
        assertThat(outcome.decision().failed())
                .extracting(r -> r.rule().ruleId())
                .containsExactly("R5");
        assertThat(outcome.fired()).as("the KRAS card still answers").containsExactly("R1");
    }

    @Test
    void thePublishGateRefusesACandidateThatTimesOut() {
        ScenarioStore scenarios = new ScenarioStore(
                new KnowledgeProperties(
                        Path.of("cql"),
                        Path.of("fhir-resources"),
                        false,
                        "http://crlm-cds.org/fhir",
                        Duration.ofSeconds(2),
                        LocalDate.parse(KnowledgeProperties.DEMO_DATA_WRITTEN_AS_OF)),
                expectations.jdbc(),
                expectations.transactions());
        PublishGate gate = new PublishGate(
                new RuleLibraryCache(new RuleSetBuilder(new CqlLibraryCompiler())), scenarios, evaluator);

        PublishGate.Verdict verdict = assertTimeoutPreemptively(HANG_GUARD, () -> gate.check(slowR5(), Map.of()));

        assertThat(verdict.ok()).isFalse();
        assertThat(verdict.problems())
                .anySatisfy(
                        p -> assertThat(p.message()).contains("rule R5 fails to evaluate", EvaluationSession.TIMEOUT))
                .anySatisfy(p -> assertThat(p.message()).contains("remaining scenarios were not run"));
        assertThat(verdict.problems()).as("no rule but R5 fails").allSatisfy(p -> assertThat(p.message())
                .doesNotContainPattern("rule R(?!5)\\w+ fails"));
    }
}
