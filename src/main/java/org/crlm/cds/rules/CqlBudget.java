package org.crlm.cds.rules;

import java.time.Duration;

/**
 * What one CQL library and one evaluation may cost. A rule author's mistake (or a hostile
 * publish) must not take the translator's stack, a hook call's time or a core's CPU: sources
 * beyond these bounds are refused at translation with their line and column, a translation or an
 * evaluation that uses more than its processor time (or runs past its wall-clock deadline) is
 * given up on and reported, and regular expressions that backtrack catastrophically are refused
 * before they are published. Processor time rather than elapsed time, so that a machine busy
 * with other work does not fail an ordinary rule.
 *
 * @param maxSourceCharacters  the longest CQL library accepted (characters)
 * @param maxNestingDepth      the deepest nesting of brackets ( [ { in a library
 * @param maxExpressionDepth   the deepest parse tree of a library (long operator chains, else-if
 *                             chains and prefix operators nest without brackets)
 * @param maxRegexLength       the longest regular expression a rule may use
 * @param translationCpuLimit  the processor time translating one set of libraries may use (and
 *                             ten times it of elapsed time)
 * @param evaluationCpuLimit   the processor time one expression may use for one patient; past it
 *                             the rule is a failed rule and the other rules still answer
 * @param decisionTimeout      the elapsed time all the expressions of one decision (one hook
 *                             call, one scenario) may take together
 */
public record CqlBudget(
        int maxSourceCharacters,
        int maxNestingDepth,
        int maxExpressionDepth,
        int maxRegexLength,
        Duration translationCpuLimit,
        Duration evaluationCpuLimit,
        Duration decisionTimeout) {

    public static final int DEFAULT_MAX_SOURCE_CHARACTERS = 200_000;
    public static final int DEFAULT_MAX_NESTING_DEPTH = 64;
    public static final int DEFAULT_MAX_EXPRESSION_DEPTH = 500;
    public static final int DEFAULT_MAX_REGEX_LENGTH = 1_000;
    public static final String DEFAULT_TRANSLATION_CPU_LIMIT = "60s";
    public static final String DEFAULT_EVALUATION_CPU_LIMIT = "5s";
    public static final String DEFAULT_DECISION_TIMEOUT = "30s";

    public static final CqlBudget DEFAULTS = new CqlBudget(
            DEFAULT_MAX_SOURCE_CHARACTERS,
            DEFAULT_MAX_NESTING_DEPTH,
            DEFAULT_MAX_EXPRESSION_DEPTH,
            DEFAULT_MAX_REGEX_LENGTH,
            Duration.parse("PT" + DEFAULT_TRANSLATION_CPU_LIMIT),
            Duration.parse("PT" + DEFAULT_EVALUATION_CPU_LIMIT),
            Duration.parse("PT" + DEFAULT_DECISION_TIMEOUT));

    public CqlBudget {
        if (maxSourceCharacters < 1
                || maxNestingDepth < 1
                || maxExpressionDepth < 1
                || maxRegexLength < 1
                || !positive(translationCpuLimit)
                || !positive(evaluationCpuLimit)
                || !positive(decisionTimeout)) {
            throw new IllegalArgumentException("Every crlm.rules.budget limit must be positive");
        }
    }

    private static boolean positive(Duration d) {
        return d != null && !d.isNegative() && !d.isZero();
    }

    public CqlBudget withEvaluationLimits(Duration evaluationCpu, Duration decision) {
        return new CqlBudget(
                maxSourceCharacters,
                maxNestingDepth,
                maxExpressionDepth,
                maxRegexLength,
                translationCpuLimit,
                evaluationCpu,
                decision);
    }

    public CqlBudget withTranslationCpuLimit(Duration translationCpu) {
        return new CqlBudget(
                maxSourceCharacters,
                maxNestingDepth,
                maxExpressionDepth,
                maxRegexLength,
                translationCpu,
                evaluationCpuLimit,
                decisionTimeout);
    }
}
