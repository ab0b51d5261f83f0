package org.crlm.cds.cdshooks;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServicesJson;
import com.fasterxml.jackson.databind.JsonNode;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.security.JsonBodyReader;
import org.crlm.cds.security.RequestAttributes;
import org.slf4j.MDC;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The CDS Hooks 2.0 HTTP contract: discovery and service calls. Errors are OperationOutcomes:
 * 400 for a request that breaks the contract (naming the field), 404 for an unknown service,
 * 412 when the data cannot be had, 413/415 for oversized or non-JSON bodies, never a stack trace.
 */
@RestController
@RequestMapping("/cds-services")
public class CdsServicesController {

    private final HookService hooks;
    private final ServiceCatalog catalog;
    private final DiscoveryDocument discovery;
    private final JsonBodyReader bodies;
    private final CdsJson json;
    private final ApiExceptionHandler errors;
    private final ApplicationEventPublisher events;
    private final TransactionTemplate transactions;

    public CdsServicesController(
            HookService hooks,
            ServiceCatalog catalog,
            DiscoveryDocument discovery,
            JsonBodyReader bodies,
            CdsJson json,
            ApiExceptionHandler errors,
            ApplicationEventPublisher events,
            TransactionTemplate transactions) {
        this.hooks = hooks;
        this.catalog = catalog;
        this.discovery = discovery;
        this.bodies = bodies;
        this.json = json;
        this.errors = errors;
        this.events = events;
        this.transactions = transactions;
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CdsServicesController.class);

    // "/cds-services/" too: clients that append a slash to the base get discovery, not a 404.
    @GetMapping(
            value = {"", "/"},
            produces = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<String> discovery() {
        CdsServicesJson services = discovery.build(hooks.rules(), catalog);
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(json.write(services));
    }

    @PostMapping({"/{serviceId}", "/{serviceId}/"})
    public ResponseEntity<?> call(@PathVariable String serviceId, HttpServletRequest http) {
        long started = System.nanoTime();
        JsonNode body = null;
        String issuer = (String) http.getAttribute(RequestAttributes.CLIENT_ISSUER);
        String correlationId = MDC.get(RequestAttributes.CORRELATION_ID);
        try {
            body = bodies.read(http);
            HookOutcome outcome = hooks.call(serviceId, body);
            ResponseEntity<byte[]> response = ResponseEntity.ok()
                    .contentType(MediaType.APPLICATION_JSON)
                    .body(json.writeBytes(outcome.response()));
            // The audit row and the issued cards are committed before the answer leaves: a crash after
            // the response loses nothing, and a database that cannot record them turns the call into a 503.
            HookCompletedEvent answered = HookCompletedEvent.answered(
                    Instant.now(), serviceId, outcome, issuer, correlationId, 200, System.nanoTime() - started);
            transactions.executeWithoutResult(status -> events.publishEvent(answered));
            return response;
        } catch (RuntimeException e) {
            ResponseEntity<String> response = errors.toResponse(e);
            JsonNode context = body == null ? null : body.get("context");
            HookCompletedEvent refused = HookCompletedEvent.refused(
                    Instant.now(),
                    serviceId,
                    text(body, "hook"),
                    text(body, "hookInstance"),
                    text(context, "patientId"),
                    issuer,
                    correlationId,
                    response.getStatusCode().value(),
                    System.nanoTime() - started);
            try {
                transactions.executeWithoutResult(status -> events.publishEvent(refused));
            } catch (RuntimeException auditFailed) {
                // The refusal is still answered; the database that would record it is itself the problem.
                log.warn(
                        "Could not record refused call {} ({}): {}",
                        refused.hookInstance(),
                        refused.httpStatus(),
                        auditFailed.toString());
            }
            return response;
        }
    }

    private static String text(JsonNode node, String field) {
        if (node == null || !node.has(field) || !node.get(field).isTextual()) {
            return null;
        }
        String value = node.get(field).asText();
        return value.length() > 100 ? value.substring(0, 100) : value;
    }
}
