package org.crlm.cds.rules;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * <p>Expressions run on an evaluation thread (its stack has room for the deepest expression
 * allowed), and the caller waits while the expression in progress has used no more than the
 * budget's processor time, and not past the decision's deadline: one that goes beyond is a
 * failure ({@link #TIMEOUT}), so its rule is a failed rule and the other rules still answer.
 * A whole decision's expressions run on one thread ({@link #run}): one handoff per decision,
 * not one per expression. The thread publishes which expression it is in and its processor
 * time at its start; the waiting caller compares.
 *
 * <p>The Java platform cannot stop a running computation. An expression given up on finishes
 * on its own thread with its own engine, which nothing uses again: the work is then run again
 * on a fresh engine and thread, taking the results already known (and the failure of the one
 * given up on) from this session's record of results, so it evaluates only what remained. The
 * abandoned thread records nothing afterwards and stops at its next expression.
 */
public final class EvaluationSession {

    /** The error type of an expression that ran past its deadline. */
    public static final String TIMEOUT = "EvaluationTimeout";

    private static final Logger log = LoggerFactory.getLogger(EvaluationSession.class);
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /** The run the current thread is evaluating for, if it is an evaluation thread. */
    private static final ThreadLocal<Run> CURRENT = new ThreadLocal<>();

    private final RuleSet rules;
    private final Supplier<CqlEngine> engines;
    private CqlEngine engine;
    private final String patientId;
    private final Map<String, Object> parameters;
    private final ZonedDateTime now;
    private final CqlBudget budget;
    private final ExecutorService evaluationThreads;
    private final long decisionDeadline;

    /** Every expression's result so far; a run given up on no longer adds to it. Guarded by {@code this}. */
    private final Map<ExpressionRef, ExpressionResult> results = new HashMap<>();

    /** Why the expressions not yet evaluated fail at once (the caller was interrupted); null while they run. */
    private volatile String stopped;

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

    /**
     * Runs work that evaluates this session's expressions on one evaluation thread, within the
     * budget for each expression and the decision's deadline. If an expression is given up on,
     * the work runs again from the start (see the class comment), so it must depend only on what
     * {@link #evaluate} returns and have no effect other than its result. Called from within
     * such work, it runs the inner work in place.
     */
    public <T> T run(Supplier<T> work) {
        Run current = CURRENT.get();
        if (current != null && current.session == this) {
            return work.get();
        }
        boolean interrupted = false;
        try {
            while (true) {
                Run attempt = new Run(this, engine);
                Future<T> running;
                try {
                    running = evaluationThreads.submit(() -> attempt.call(work));
                } catch (RejectedExecutionException e) {
                    // No evaluation thread (shutting down): every expression fails, the work still answers.
                    return new Run(this, null, e).call(work);
                }
                while (true) {
                    try {
                        T result = running.get(POLL_NANOS, TimeUnit.NANOSECONDS);
                        if (!attempt.abandoned) {
                            return result;
                        }
                        break;
                    } catch (TimeoutException stillRunning) {
                        if (giveUpIfPastBudget(attempt)) {
                            running.cancel(true);
                            break;
                        }
                    } catch (InterruptedException e) {
                        // The caller is stopping: what is not yet evaluated fails at once.
                        interrupted = true;
                        stopped = "the evaluation was interrupted";
                        InProgress expression = attempt.inProgress;
                        if (expression != null && giveUp(attempt, expression, stopped)) {
                            running.cancel(true);
                            break;
                        }
                    } catch (ExecutionException e) {
                        Throwable cause = e.getCause();
                        if (cause instanceof RuntimeException r) {
                            throw r;
                        }
                        if (cause instanceof Error err) {
                            throw err;
                        }
                        throw new IllegalStateException(cause);
                    }
                }
                // Given up on: that engine stays with the abandoned thread; the next run gets a fresh one.
                engine = engines.get();
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Gives up the run's expression in progress if it is past its processor time or the deadline. */
    private boolean giveUpIfPastBudget(Run attempt) {
        InProgress expression = attempt.inProgress;
        if (expression == null) {
            return false;
        }
        if (System.nanoTime() - decisionDeadline >= 0) {
            return giveUp(attempt, expression, "the deadline passed");
        }
        long cpuLimit = budget.evaluationCpuLimit().toNanos();
        if (cpuTime(attempt.thread) - expression.cpuAtStart > cpuLimit) {
            return giveUp(
                    attempt,
                    expression,
                    "it used more than " + CpuBoundedRun.readable(budget.evaluationCpuLimit()) + " of processor time");
        }
        return false;
    }

    /** Records the expression as given up on, unless it has just finished. */
    private synchronized boolean giveUp(Run attempt, InProgress expression, String reason) {
        if (attempt.inProgress != expression) {
            return false;
        }
        attempt.abandoned = true;
        results.put(expression.ref, timedOut(expression.library, expression.ref, reason));
        log.warn(
                "Expression {} of {} given up: {}; it ends on its own thread",
                expression.ref.name(),
                expression.library.name(),
                reason);
        return true;
    }

    /** Evaluates one named expression; a failure is returned, never thrown. */
    public ExpressionResult evaluate(ExpressionRef ref) {
        Run current = CURRENT.get();
        if (current == null || current.session != this) {
            return run(() -> evaluate(ref));
        }
        if (current.abandoned) {
            throw new Abandoned();
        }
        synchronized (this) {
            ExpressionResult known = results.get(ref);
            if (known != null) {
                return known;
            }
        }
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
        ExpressionResult result;
        if (current.refused != null) {
            result = new ExpressionResult(ref, null, failure(lib, ref.name(), current.refused), lib.version());
        } else if (stopped != null) {
            result = timedOut(lib, ref, stopped);
        } else if (System.nanoTime() - decisionDeadline >= 0) {
            result = timedOut(
                    lib, ref, "the decision's " + CpuBoundedRun.readable(budget.decisionTimeout()) + " had passed");
        } else {
            current.inProgress = new InProgress(ref, lib, cpuTime(Thread.currentThread()));
            result = evaluateOn(current.engine, lib, ref);
        }
        synchronized (this) {
            if (current.abandoned) {
                throw new Abandoned();
            }
            current.inProgress = null;
            results.put(ref, result);
        }
        return result;
    }

    /** One attempt at a piece of work, on one thread and one engine. */
    private static final class Run {
        final EvaluationSession session;
        final CqlEngine engine;
        final RuntimeException refused;
        volatile Thread thread;
        volatile InProgress inProgress;
        volatile boolean abandoned;

        Run(EvaluationSession session, CqlEngine engine) {
            this(session, engine, null);
        }

        Run(EvaluationSession session, CqlEngine engine, RuntimeException refused) {
            this.session = session;
            this.engine = engine;
            this.refused = refused;
        }

        <T> T call(Supplier<T> work) {
            Run outer = CURRENT.get();
            thread = Thread.currentThread();
            CURRENT.set(this);
            try {
                return work.get();
            } catch (Abandoned e) {
                return null;
            } finally {
                CURRENT.set(outer);
            }
        }
    }

    /** The expression a run is in, and its thread's processor time when it began. */
    private record InProgress(ExpressionRef ref, RuleLibrary library, long cpuAtStart) {}

    /** Ends the work of a run given up on at its next expression. */
    private static final class Abandoned extends RuntimeException {
        Abandoned() {
            super("given up on", null, false, false);
        }
    }

    /** The thread's processor time so far; elapsed time where the platform does not measure it. */
    private static long cpuTime(Thread thread) {
        long cpu = !THREADS.isThreadCpuTimeSupported()
                ? -1
                : thread == Thread.currentThread()
                        ? THREADS.getCurrentThreadCpuTime()
                        : THREADS.getThreadCpuTime(thread.getId());
        return cpu >= 0 ? cpu : System.nanoTime();
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
            return failed(lib, ref, "StackOverflowError", "The expression recursed too deeply to evaluate");
        }
    }

    private static ExpressionResult timedOut(RuleLibrary lib, ExpressionRef ref, String why) {
        return failed(
                lib,
                ref,
                TIMEOUT,
                "Evaluation given up: " + why + " (crlm.rules.budget.evaluation-cpu-limit, "
                        + "crlm.rules.budget.decision-timeout)");
    }

    /** A failure the engine did not raise itself (no source location). */
    private static ExpressionResult failed(RuleLibrary lib, ExpressionRef ref, String kind, String message) {
        return new ExpressionResult(
                ref, null, new ExpressionFailure(lib.name(), ref.name(), null, null, kind, message), lib.version());
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
