package org.crlm.cds.knowledge;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;
import org.crlm.cds.authoring.RuleTestCase;
import org.crlm.cds.authoring.RuleTestRunner;
import org.crlm.cds.rules.CqlBudget;
import org.crlm.cds.rules.CqlLibraryCompiler;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleLibrary;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.rules.RuleSetBuilder;
import org.hl7.fhir.r4.model.Library;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * A restart with unchanged CQL translates nothing: the translations kept in the database
 * (table cds_translated_elm, created by the project's own migration) are read back, and the
 * rules read back decide every scenario as the translated ones do. Changed CQL is always
 * translated, and a stored ELM of other CQL is never used.
 */
class TranslatedElmRestartTest {

    private static final int LIBRARIES = 3;

    private JdbcTemplate jdbc;
    private KnowledgeResources repository;

    @BeforeEach
    void freshDatabase() throws Exception {
        jdbc = new JdbcTemplate(
                new DriverManagerDataSource("jdbc:h2:mem:elm-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1", "sa", ""));
        jdbc.execute(Files.readString(Path.of("src/main/resources/db/migration/V19_5__translated_elm.sql")));
        repository = new RepositoryFiles(FhirContext.forR4Cached())
                .knowledge(Path.of("cql"), Path.of("fhir-resources"), "http://crlm-cds.org/fhir");
    }

    /** A compiler as a fresh server process has it: nothing in memory, the database shared. */
    private CqlLibraryCompiler afterStart() {
        return new CqlLibraryCompiler(
                CqlLibraryCompiler.DEFAULT_CACHE_SIZE, CqlBudget.DEFAULTS, new DatabaseTranslatedElm(jdbc));
    }

    private static RuleSet build(CqlLibraryCompiler compiler, KnowledgeResources knowledge) {
        RuleSetBuilder.Result result = new RuleSetBuilder(compiler).build(knowledge);
        assertThat(result.problems()).isEmpty();
        return result.ruleSet().orElseThrow();
    }

    @Test
    void aRestartWithUnchangedCqlTranslatesNothingAndDecidesEveryScenarioAlike() {
        CqlLibraryCompiler firstStart = afterStart();
        RuleSet translated = build(firstStart, repository);
        assertThat(firstStart.translations()).isEqualTo(LIBRARIES);
        assertThat(jdbc.queryForObject("select count(*) from cds_translated_elm", Integer.class))
                .as("our three libraries and FHIRHelpers kept")
                .isEqualTo(LIBRARIES + 1);

        CqlLibraryCompiler restart = afterStart();
        RuleSet rules = build(restart, repository);

        assertThat(restart.translations())
                .as("cql_translations_total after the restart")
                .isZero();
        assertThat(restart.restorations()).isEqualTo(LIBRARIES);
        for (RuleLibrary library : translated.libraries()) {
            assertThat(rules.library(library.url() + "|" + library.version())
                            .orElseThrow()
                            .elmJson())
                    .as(library.name() + ": the ELM the loader attaches to the Library resource is unchanged,"
                            + " so a restart stores no new Library version")
                    .isEqualTo(library.elmJson());
        }
        RuleTestRunner runner = new RuleTestRunner(new DecisionEvaluator(new RuleEngine()), new ServiceCatalog());
        for (RuleTestCase scenario : RuleTestCase.all()) {
            RuleTestRunner.Outcome outcome = runner.run(rules, scenario);
            assertThat(outcome.failures())
                    .as(scenario.name() + ": rules that failed")
                    .isEmpty();
            assertThat(outcome.factProblems())
                    .as(scenario.name() + ": card facts")
                    .isEmpty();
            assertThat(outcome.fired()).as(scenario.name()).isEqualTo(new TreeSet<>(scenario.expectedRules()));
        }
    }

    @Test
    void changedCqlIsTranslatedAndItsIncludersToo() {
        build(afterStart(), repository);
        KnowledgeResources changed = repository.with(withDefinition("CRLMFacts", "Restart Probe"));

        CqlLibraryCompiler restart = afterStart();
        RuleSet rules = build(restart, changed);

        assertThat(restart.translations())
                .as("CRLMFacts changed; CRLMAblationRules and CRLMDataGaps include it")
                .isEqualTo(LIBRARIES);
        assertThat(rules.libraries())
                .filteredOn(l -> l.name().equals("CRLMFacts"))
                .singleElement()
                .satisfies(l -> assertThat(l.expressionNames()).contains("Restart Probe"));
    }

    @Test
    void storedElmOfOtherCqlIsNeverUsed() {
        build(afterStart(), repository);
        // Whatever the key, a row whose CQL hash is not that of the text being compiled is ignored.
        jdbc.update("update cds_translated_elm set cql_sha256 = 'other' where library_name = 'CRLMDataGaps'");

        CqlLibraryCompiler restart = afterStart();
        build(restart, repository);

        assertThat(restart.translations())
                .as("all or nothing: read-back ELM cannot be the include of a library being translated")
                .isEqualTo(LIBRARIES);
        assertThat(restart.restorations()).isZero();
    }

    private Library withDefinition(String name, String definition) {
        Library library = repository.libraries().stream()
                .filter(l -> l.getName().equals(name))
                .findFirst()
                .orElseThrow()
                .copy();
        String cql = RuleSetBuilder.cqlText(library).orElseThrow() + "\n\ndefine \"" + definition + "\": 1\n";
        library.getContent().stream()
                .filter(c -> "text/cql".equals(c.getContentType()))
                .forEach(c -> c.setData(cql.getBytes(StandardCharsets.UTF_8)));
        return library;
    }
}
