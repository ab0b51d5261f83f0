package org.crlm.cds.cdshooks;

import ca.uhn.fhir.context.FhirContext;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;

/** Error bodies as FHIR OperationOutcomes, the way CDS Hooks 2.0 clients and FHIR tools read them. */
@Component
public class OperationOutcomes {

    private final FhirContext fhirContext;

    public OperationOutcomes(FhirContext fhirContext) {
        this.fhirContext = fhirContext;
    }

    public ResponseEntity<String> response(int status, String issueCode, String message, String expression) {
        return ResponseEntity.status(HttpStatusCode.valueOf(status))
                .contentType(MediaType.APPLICATION_JSON)
                .header(HttpHeaders.CACHE_CONTROL, "no-store")
                .body(json(issueCode, message, expression));
    }

    public String json(String issueCode, String message, String expression) {
        OperationOutcome outcome = new OperationOutcome();
        OperationOutcome.OperationOutcomeIssueComponent issue = outcome.addIssue()
                .setSeverity(OperationOutcome.IssueSeverity.ERROR)
                .setCode(OperationOutcome.IssueType.fromCode(issueCode))
                .setDiagnostics(message);
        if (expression != null) {
            issue.addExpression(expression);
        }
        return fhirContext.newJsonParser().encodeResourceToString(outcome);
    }
}
