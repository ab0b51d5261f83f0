package org.crlm.cds.rules;

import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import kotlin.Pair;
import org.opencds.cqf.cql.engine.debug.Location;
import org.opencds.cqf.cql.engine.debug.SourceLocator;
import org.opencds.cqf.cql.engine.exception.CqlException;
import org.opencds.cqf.cql.engine.execution.CqlEngine;
import org.opencds.cqf.cql.engine.execution.EvaluationExpressionRef;
import org.opencds.cqf.cql.engine.execution.EvaluationParams;
import org.opencds.cqf.cql.engine.execution.EvaluationResult;
import org.opencds.cqf.cql.engine.execution.EvaluationResults;

/**
 * Evaluation of one patient's data against one rule set, one expression at a time, on one
 * engine whose expression cache shares common definitions between calls. Not thread-safe:
 * one session per hook call.
 */
public final class EvaluationSession {

    private final RuleSet rules;
    private final CqlEngine engine;
    private final String patientId;
    private final Map<String, Object> parameters;
    private final ZonedDateTime now;

    EvaluationSession(
            RuleSet rules, CqlEngine engine, String patientId, Map<String, Object> parameters, ZonedDateTime now) {
        this.now = now;
        this.rules = rules;
        this.engine = engine;
        this.patientId = patientId;
        this.parameters = parameters;
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
        }
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
