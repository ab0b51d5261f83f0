package org.crlm.cds.cdshooks;

import org.crlm.cds.security.RequestAttributes;
import org.crlm.cds.security.RequestRejectedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * The one mapping from our exceptions to HTTP answers, for every controller of the application
 * (hooks, feedback, console API): an OperationOutcome naming what was wrong, never a stack trace.
 */
@RestControllerAdvice(basePackages = "org.crlm.cds")
public class ApiExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ApiExceptionHandler.class);

    private final OperationOutcomes outcomes;

    public ApiExceptionHandler(OperationOutcomes outcomes) {
        this.outcomes = outcomes;
    }

    @ExceptionHandler(RuntimeException.class)
    public ResponseEntity<String> handle(RuntimeException e) {
        return toResponse(e);
    }

    /** The answer for an exception; also used by callers that must know the status before they answer. */
    public ResponseEntity<String> toResponse(RuntimeException e) {
        if (e instanceof RequestRejectedException r) {
            return outcomes.response(r.status(), r.issueCode(), r.getMessage(), null);
        }
        if (e instanceof InvalidHookRequestException r) {
            return outcomes.response(400, "invalid", r.getMessage(), r.field());
        }
        if (e instanceof HttpMessageNotReadableException) {
            return outcomes.response(400, "invalid", "The request body is not valid JSON of the expected shape", null);
        }
        if (e instanceof UnknownServiceException) {
            return outcomes.response(404, "not-found", e.getMessage(), null);
        }
        if (e instanceof DataUnavailableException r) {
            return outcomes.responseNaming(
                    412,
                    "incomplete",
                    r.getMessage(),
                    r.prefetchKeys().stream().map(key -> "prefetch." + key).toList());
        }
        if (e instanceof RulesNotReadyException) {
            return outcomes.response(503, "transient", e.getMessage(), null);
        }
        if (databaseUnavailable(e)) {
            // The database is unreachable (the pool's connection timeout bounds the wait): say so at once, and
            // never answer a call whose audit and issued cards could not be recorded.
            log.warn("Database unavailable: {}", e.toString());
            return outcomes.response(
                    503, "transient", "The service's database is unavailable; try again shortly", null);
        }
        String correlationId = MDC.get(RequestAttributes.CORRELATION_ID);
        log.error("Request failed (correlation id {})", correlationId, e);
        return outcomes.response(
                500,
                "exception",
                "The service could not answer; the failure is logged under correlation id " + correlationId,
                null);
    }

    /**
     * The database could not be reached, however the layer that met it wraps it: Spring's data
     * access exceptions, or (from the FHIR store, which HAPI wraps in its own exceptions) a JDBC
     * connection failure anywhere in the cause chain: SQLState class 08 (connection exception),
     * 57P (the server shutting down or cutting connections), or a pool that timed out.
     */
    static boolean databaseUnavailable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.springframework.dao.DataAccessResourceFailureException
                    || t instanceof org.springframework.transaction.CannotCreateTransactionException
                    || t instanceof java.sql.SQLTransientConnectionException
                    || t instanceof java.sql.SQLNonTransientConnectionException) {
                return true;
            }
            if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.startsWith("08") || state.startsWith("57P")) {
                    return true;
                }
            }
        }
        return e instanceof org.springframework.dao.DataAccessException;
    }
}
