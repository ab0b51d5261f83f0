package org.crlm.cds.cdshooks;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.crlm.cds.security.RequestAttributes;
import org.slf4j.MDC;
import org.springframework.boot.web.servlet.error.ErrorController;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Errors no controller answered (no route: 404; a wrong method: 405; an unacceptable or
 * unsupported media type: 406/415; anything thrown past the controllers: 500) reach the servlet
 * container's error page, which is this: an OperationOutcome like every other error, never the
 * framework's default body or a stack trace. Replaces Spring Boot's BasicErrorController.
 */
@RestController
public class RoutingErrorController implements ErrorController {

    private final OperationOutcomes outcomes;

    public RoutingErrorController(OperationOutcomes outcomes) {
        this.outcomes = outcomes;
    }

    @RequestMapping("${server.error.path:${error.path:/error}}")
    public ResponseEntity<String> error(HttpServletRequest request) {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        int status = code instanceof Integer i && i >= 400 ? i : 500;
        String correlation = MDC.get(RequestAttributes.CORRELATION_ID) != null
                ? MDC.get(RequestAttributes.CORRELATION_ID)
                : (String) request.getAttribute(RequestAttributes.CORRELATION_ID);
        request.setAttribute(RequestAttributes.REFUSAL_REASON, "routing-" + status);
        return switch (status) {
            case 404 -> outcomes.response(
                    404,
                    "not-found",
                    "No such endpoint. CDS Hooks discovery is GET /cds-services, a service "
                            + "is POST /cds-services/{id}, its feedback POST /cds-services/{id}/feedback; FHIR R4 is under /fhir",
                    null);
            case 405 -> outcomes.response(
                    405,
                    "not-supported",
                    "This endpoint does not accept the " + method(request)
                            + " method. Discovery is GET /cds-services; services and feedback are POST",
                    null);
            case 406 -> outcomes.response(406, "not-supported", "This endpoint answers application/json only", null);
            case 415 -> outcomes.response(415, "not-supported", "The body must be application/json", null);
            case 400 -> outcomes.response(400, "invalid", "The request could not be read", null);
            case 401 -> outcomes.response(401, "login", "Unauthorized", null);
            case 403 -> outcomes.response(403, "forbidden", "Forbidden", null);
            case 413 -> outcomes.response(413, "too-costly", "The request body is too large", null);
            default -> status >= 500
                    ? outcomes.response(
                            status,
                            status == 503 ? "transient" : "exception",
                            "The service could not answer; the failure is logged under correlation id " + correlation,
                            null)
                    : outcomes.response(status, "processing", "The request was refused (HTTP " + status + ")", null);
        };
    }

    private static String method(HttpServletRequest request) {
        String method = request.getMethod();
        return method != null && method.matches("[A-Z]{1,10}") ? method : "request's";
    }
}
