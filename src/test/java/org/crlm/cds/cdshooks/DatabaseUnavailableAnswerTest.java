package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.CannotCreateTransactionException;

/**
 * When the database cannot be reached (no connection within the pool's timeout), a hook call
 * is answered at once with a 503 OperationOutcome, never a 200 whose audit row is missing and
 * never a 500 with a stack trace.
 */
class DatabaseUnavailableAnswerTest {

    private final ApiExceptionHandler errors =
            new ApiExceptionHandler(new OperationOutcomes(FhirContext.forR4Cached()));

    @Test
    void noConnectionForTheAuditIsA503OperationOutcome() {
        for (RuntimeException e : new RuntimeException[] {
            new CannotCreateTransactionException("Could not open JPA EntityManager for transaction"),
            new DataAccessResourceFailureException("Connection is not available, request timed out after 3000ms")
        }) {
            ResponseEntity<String> response = errors.toResponse(e);
            assertThat(response.getStatusCode().value()).isEqualTo(503);
            assertThat(response.getBody())
                    .contains("\"resourceType\":\"OperationOutcome\"")
                    .contains("transient")
                    .contains("database is unavailable")
                    .doesNotContain("Exception");
        }
    }
}
