package org.crlm.cds.rules;

import ca.uhn.fhir.context.FhirContext;
import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.opencds.cqf.cql.engine.data.CompositeDataProvider;
import org.opencds.cqf.cql.engine.execution.CqlEngine;
import org.opencds.cqf.cql.engine.execution.Environment;
import org.opencds.cqf.cql.engine.model.CachingModelResolverDecorator;
import org.opencds.cqf.cql.engine.model.ModelResolver;

/**
 * Evaluates compiled rules against one patient's in-memory data: no database, no network,
 * no translation. Thread-safe; each call opens its own {@link EvaluationSession}. A decision's
 * expressions run on an evaluation thread, each waited for no longer than the {@link CqlBudget}
 * allows, so a rule that runs away becomes a failed rule and the others still answer.
 */
public final class RuleEngine {

    static final String FHIR_MODEL_URI = "http://hl7.org/fhir";

    /** Evaluation recurses per level of the ELM tree: a thread of its own with room for the deepest allowed. */
    private static final long EVALUATION_STACK_BYTES = 16L * 1024 * 1024;

    private final ModelResolver modelResolver =
            new CachingModelResolverDecorator(new FastR4ModelResolver(FhirContext.forR4Cached()));
    private final CqlBudget budget;
    private final ExecutorService evaluationThreads;

    public RuleEngine() {
        this(CqlBudget.DEFAULTS);
    }

    public RuleEngine(CqlBudget budget) {
        this.budget = budget;
        // Threads are made as needed and kept a minute: a hook call never waits for a free one,
        // and an abandoned evaluation holds only its own thread until it ends.
        this.evaluationThreads =
                new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), threads());
    }

    public CqlBudget budget() {
        return budget;
    }

    public EvaluationSession open(RuleSet rules, PatientData data, Map<String, Object> parameters) {
        PatientDataRetrieveProvider retrieve =
                new PatientDataRetrieveProvider(data, modelResolver, rules.terminology());
        // A fresh engine (and environment) replaces one left to an abandoned evaluation.
        Supplier<CqlEngine> engines = () -> new CqlEngine(
                new Environment(
                        rules.libraryManager(),
                        Map.of(FHIR_MODEL_URI, new CompositeDataProvider(modelResolver, retrieve)),
                        rules.terminology()),
                EnumSet.of(CqlEngine.Options.EnableExpressionCaching));
        return new EvaluationSession(
                rules, engines, data.patientId(), parameters, data.evaluationTime(), budget, evaluationThreads);
    }

    private static ThreadFactory threads() {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(null, task, "cql-evaluation-" + count.incrementAndGet(), EVALUATION_STACK_BYTES);
            thread.setDaemon(true);
            return thread;
        };
    }
}
