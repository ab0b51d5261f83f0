package org.crlm.cds.rules;

import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import kotlin.Pair;
import org.opencds.cqf.cql.engine.debug.Location;
import org.opencds.cqf.cql.engine.debug.SourceLocator;
import org.opencds.cqf.cql.engine.exception.CqlException;
import org.opencds.cqf.cql.engine.execution.CqlEngine;
import org.opencds.cqf.cql.engine.execution.EvaluationExpressionRef;
import org.opencds.cqf.cql.engine.execution.EvaluationParams;
import org.opencds.cqf.cql.engine.execution.EvaluationResult;
import org.opencds.cqf.cql.engine.execution.EvaluationResults;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluation of one patient's data against one rule set, one expression at a time, on one
 * engine whose expression cache shares common definitions between calls. Not thread-safe:
 * one session per hook call.
 *
 * <p>Each expression runs on an evaluation thread and is waited for while it has used no more
 * than the budget's processor time, and not past the decision's deadline: one that goes beyond
 * is a failure ({@link #TIMEOUT}), so its rule is a failed rule and the other rules still
 * answer. The Java platform cannot stop a running computation, so the abandoned one finishes on
 * its own thread and its engine is not used again.
 */
public final class EvaluationSession {

    /** The error type of an expression that ran past its deadline. */
    public static final String TIMEOUT = "EvaluationTimeout";

    private static final Logger log = LoggerFactory.getLogger(EvaluationSession.class);

    private final RuleSet rules;
    private final Supplier<CqlEngine> engines;
    private CqlEngine engine;
    private final String patientId;
    private final Map<String, Object> parameters;
    private final ZonedDateTime now;
    private final CqlBudget budget;
    private final ExecutorService evaluationThreads;
    private final long decisionDeadline;

    EvaluationSession(
            RuleSet rules,
            Supplier<CqlEngine> engines,
            String patientId,
            Map<String, Object> parameters,
            ZonedDateTime now,
            CqlBudget budget,
            ExecutorService evaluationThreads) {
        this.now = now;
        this.rules = rules;
        this.engines = engines;
        this.engine = engines.get();
        this.patientId = patientId;
        this.parameters = parameters;
        this.budget = budget;
        this.evaluationThreads = evaluationThreads;
        this.decisionDeadline = System.nanoTime() + budget.decisionTimeout().toNanos();
    }

    public RuleSet rules() {
        return rules;
    }

    /** Evaluates one named expression; a failure is returned, never thrown. */
    public ExpressionResult evaluate(ExpressionRef ref) {
        Optional<RuleLibrary> library = rules.library(ref.libraryCanonical());
        if (library.isEmpty()) {
            return new ExpressionResult(
                    ref,
                    null,
                    new ExpressionFailure(
                            ref.libraryCanonical(),
                            ref.name(),
                            null,
                            null,
                            "UnknownLibrary",
                            "No compiled library " + ref.libraryCanonical()),
                    null);
        }
        RuleLibrary lib = library.get();
        if (System.nanoTime() >= decisionDeadline) {
            return timedOut(
                    lib, ref, "the decision's " + CpuBoundedRun.readable(budget.decisionTimeout()) + " had passed");
        }
        CqlEngine current = engine;
        try {
            return CpuBoundedRun.run(
                    evaluationThreads,
                    () -> evaluateOn(current, lib, ref),
                    budget.evaluationCpuLimit(),
                    decisionDeadline);
        } catch (CpuBoundedRun.Exceeded e) {
            // The abandoned evaluation still holds that engine; the next expressions get a fresh one.
            engine = engines.get();
            log.warn("Expression {} of {} given up: {}; it ends on its own thread", ref.name(), lib.name(), e.reason());
            return timedOut(lib, ref, e.reason());
        } catch (RejectedExecutionException e) {
            return new ExpressionResult(ref, null, failure(lib, ref.name(), e), lib.version());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            return new ExpressionResult(
                    ref,
                    null,
                    failure(
                            lib,
                            ref.name(),
                            cause instanceof RuntimeException r ? r : new IllegalStateException(cause)),
                    lib.version());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return timedOut(lib, ref, "the evaluation was interrupted");
        }
    }

    private ExpressionResult evaluateOn(CqlEngine engine, RuleLibrary lib, ExpressionRef ref) {
        EvaluationParams.Builder params = new EvaluationParams.Builder();
        params.setContextParameter(new Pair<>("Patient", patientId));
        params.setParameters(parameters);
        params.setEvaluationDateTime(now);
        params.library(
                lib.identifier(), new EvaluationParams.LibraryParams(List.of(new EvaluationExpressionRef(ref.name()))));
        try {
            EvaluationResults results = engine.evaluate(params.build());
            RuntimeException error = results.getExceptionFor(lib.identifier());
            if (error == null && results.hasExceptions()) {
                error = results.getExceptions().values().iterator().next();
            }
            if (error != null) {
                return new ExpressionResult(ref, null, failure(lib, ref.name(), error), lib.version());
            }
            EvaluationResult result = results.getResultFor(lib.identifier());
            var expression = result == null ? null : result.get(ref.name());
            return new ExpressionResult(ref, expression == null ? null : expression.getValue(), null, lib.version());
        } catch (RuntimeException e) {
            return new ExpressionResult(ref, null, failure(lib, ref.name(), e), lib.version());
        } catch (StackOverflowError e) {
            return new ExpressionResult(
                    ref,
                    null,
                    new ExpressionFailure(
                            lib.name(),
                            ref.name(),
                            null,
                            null,
                            "StackOverflowError",
                            "The expression recursed too deeply to evaluate"),
                    lib.version());
        }
    }

    private static ExpressionResult timedOut(RuleLibrary lib, ExpressionRef ref, String why) {
        return new ExpressionResult(
                ref,
                null,
                new ExpressionFailure(
                        lib.name(),
                        ref.name(),
                        null,
                        null,
                        TIMEOUT,
                        "Evaluation given up: " + why + " (crlm.rules.budget.evaluation-cpu-limit, "
                                + "crlm.rules.budget.decision-timeout)"),
                lib.version());
    }

    private static ExpressionFailure failure(RuleLibrary lib, String expression, RuntimeException e) {
        Integer line = null;
        Integer column = null;
        String library = lib.name();
        if (e instanceof CqlException cql && cql.getSourceLocator() != null) {
            SourceLocator locator = cql.getSourceLocator();
            Location where = locator.getSourceLocation();
            if (where != null) {
                line = where.getStartLine();
                column = where.getStartChar();
            }
            if (locator.getLibraryName() != null) {
                library = locator.getLibraryName();
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return new ExpressionFailure(
                library, expression, line, column, root.getClass().getSimpleName(), String.valueOf(e.getMessage()));
    }
}
