package org.crlm.cds.fhirserver;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseOperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome;

/**
 * An error answer of the FHIR API never carries a stack trace or a Java exception: HAPI puts the
 * message of an unexpected exception into the OperationOutcome, and such a message can hold a
 * nested trace. Those diagnostics are replaced; every diagnostic is capped in length.
 */
@Interceptor
public class NoInternalDetailsInOutcomes {

    private static final Pattern STACK_TRACE = Pattern.compile("\\tat |\\n\\s*at |\\.java:\\d+\\)");
    private static final String STATUS = NoInternalDetailsInOutcomes.class.getName() + ".status";
    private static final int MAX_LENGTH = 1000;

    @Hook(Pointcut.SERVER_HANDLE_EXCEPTION)
    public boolean remember(RequestDetails request, BaseServerResponseException exception) {
        request.getUserData().put(STATUS, exception.getStatusCode());
        return true;
    }

    @Hook(Pointcut.SERVER_OUTGOING_FAILURE_OPERATIONOUTCOME)
    public void clean(RequestDetails request, IBaseOperationOutcome outcome) {
        if (!(outcome instanceof OperationOutcome r4)) {
            return;
        }
        // An unexpected failure (5xx) says nothing of its cause: that goes to the log.
        boolean internal =
                request != null && request.getUserData().get(STATUS) instanceof Integer status && status >= 500;
        for (OperationOutcome.OperationOutcomeIssueComponent issue : r4.getIssue()) {
            String diagnostics = issue.getDiagnostics();
            if (diagnostics == null) {
                continue;
            }
            if (internal || STACK_TRACE.matcher(diagnostics).find()) {
                issue.setDiagnostics("The server could not process this request");
            } else if (diagnostics.length() > MAX_LENGTH) {
                issue.setDiagnostics(diagnostics.substring(0, MAX_LENGTH) + "...");
            }
        }
    }
}
