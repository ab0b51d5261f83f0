package org.crlm.cds.cdshooks;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;

/** Error bodies as FHIR OperationOutcomes, the way CDS Hooks 2.0 clients and FHIR tools read them. */
@Component
public class OperationOutcomes {

    private final FhirContext fhirContext;

    public OperationOutcomes(FhirContext fhirContext) {
        this.fhirContext = fhirContext;
    }

    public ResponseEntity<String> response(int status, String issueCode, String message, String expression) {
        return responseNaming(status, issueCode, message, expression == null ? List.of() : List.of(expression));
    }

    /**
     * The error response; also notes the issue code and the fields named for the call log (see
     * ops/CdsCallLog), which never logs the message.
     */
    public ResponseEntity<String> responseNaming(
            int status, String issueCode, String message, List<String> expressions) {
        RequestAttributes request = RequestContextHolder.getRequestAttributes();
        if (request != null) {
            request.setAttribute(
                    org.crlm.cds.security.RequestAttributes.REFUSAL_REASON,
                    expressions.isEmpty() ? issueCode : issueCode + " at " + String.join(",", expressions),
                    RequestAttributes.SCOPE_REQUEST);
        }
        return ResponseEntity.status(HttpStatusCode.valueOf(status))
                .contentType(MediaType.APPLICATION_JSON)
                .header(HttpHeaders.CACHE_CONTROL, "no-store")
                .body(jsonNaming(issueCode, message, expressions));
    }

    public String json(String issueCode, String message, String expression) {
        return jsonNaming(issueCode, message, expression == null ? List.of() : List.of(expression));
    }

    public String jsonNaming(String issueCode, String message, List<String> expressions) {
        OperationOutcome outcome = new OperationOutcome();
        OperationOutcome.OperationOutcomeIssueComponent issue = outcome.addIssue()
                .setSeverity(OperationOutcome.IssueSeverity.ERROR)
                .setCode(OperationOutcome.IssueType.fromCode(issueCode))
                .setDiagnostics(message);
        expressions.forEach(issue::addExpression);
        return fhirContext.newJsonParser().encodeResourceToString(outcome);
    }
}
