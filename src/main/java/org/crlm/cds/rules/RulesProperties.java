package org.crlm.cds.rules;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Rule engine settings ({@code crlm.rules.*}).
 *
 * @param compiledLibraryCacheSize how many translated CQL libraries are kept for reuse (the
 *                                 rules in service plus recent console drafts); beyond it the
 *                                 least used are dropped and translated again when needed
 * @param budget                   what one library and one evaluation may cost ({@link CqlBudget})
 */
@ConfigurationProperties("crlm.rules")
public record RulesProperties(
        @DefaultValue("" + CqlLibraryCompiler.DEFAULT_CACHE_SIZE) int compiledLibraryCacheSize,
        @DefaultValue Budget budget) {

    /** {@code crlm.rules.budget.*}: see {@link CqlBudget} for what each bounds. */
    public record Budget(
            @DefaultValue("" + CqlBudget.DEFAULT_MAX_SOURCE_CHARACTERS) int maxSourceCharacters,
            @DefaultValue("" + CqlBudget.DEFAULT_MAX_NESTING_DEPTH) int maxNestingDepth,
            @DefaultValue("" + CqlBudget.DEFAULT_MAX_EXPRESSION_DEPTH) int maxExpressionDepth,
            @DefaultValue("" + CqlBudget.DEFAULT_MAX_REGEX_LENGTH) int maxRegexLength,
            @DefaultValue(CqlBudget.DEFAULT_TRANSLATION_CPU_LIMIT) Duration translationCpuLimit,
            @DefaultValue(CqlBudget.DEFAULT_EVALUATION_CPU_LIMIT) Duration evaluationCpuLimit,
            @DefaultValue(CqlBudget.DEFAULT_DECISION_TIMEOUT) Duration decisionTimeout) {

        public CqlBudget cqlBudget() {
            return new CqlBudget(
                    maxSourceCharacters,
                    maxNestingDepth,
                    maxExpressionDepth,
                    maxRegexLength,
                    translationCpuLimit,
                    evaluationCpuLimit,
                    decisionTimeout);
        }
    }
}
