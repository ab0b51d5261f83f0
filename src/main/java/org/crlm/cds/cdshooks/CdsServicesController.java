package org.crlm.cds.cdshooks;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServicesJson;
import com.fasterxml.jackson.databind.JsonNode;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import org.crlm.cds.security.JsonBodyReader;
import org.crlm.cds.security.RequestAttributes;
import org.crlm.cds.security.RequestRejectedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
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

    private static final Logger log = LoggerFactory.getLogger(CdsServicesController.class);

    private final HookService hooks;
    private final ServiceCatalog catalog;
    private final DiscoveryDocument discovery;
    private final JsonBodyReader bodies;
    private final CdsJson json;
    private final OperationOutcomes outcomes;
    private final ApplicationEventPublisher events;

    public CdsServicesController(HookService hooks, ServiceCatalog catalog, DiscoveryDocument discovery,
            JsonBodyReader bodies, CdsJson json, OperationOutcomes outcomes, ApplicationEventPublisher events) {
        this.hooks = hooks;
        this.catalog = catalog;
        this.discovery = discovery;
        this.bodies = bodies;
        this.json = json;
        this.outcomes = outcomes;
        this.events = events;
    }

    // "/cds-services/" too: clients that append a slash to the base get discovery, not a 404.
    @GetMapping(value = {"", "/"}, produces = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<String> discovery() {
        try {
            CdsServicesJson services = discovery.build(hooks.rules(), catalog);
            return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(json.write(services));
        } catch (RulesNotReadyException e) {
            return outcomes.response(503, "transient", e.getMessage(), null);
        }
    }

    @PostMapping({"/{serviceId}", "/{serviceId}/"})
    public ResponseEntity<String> call(@PathVariable String serviceId, HttpServletRequest http) {
        long started = System.nanoTime();
        HookOutcome outcome = null;
        JsonNode body = null;
        ResponseEntity<String> response;
        try {
            body = bodies.read(http);
            outcome = hooks.call(serviceId, body);
            response = ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(json.write(outcome.response()));
        } catch (RequestRejectedException e) {
            response = outcomes.response(e.status(), e.issueCode(), e.getMessage(), null);
        } catch (InvalidHookRequestException e) {
            response = outcomes.response(400, "invalid", e.getMessage(), e.field());
        } catch (UnknownServiceException e) {
            response = outcomes.response(404, "not-found", e.getMessage(), null);
        } catch (DataUnavailableException e) {
            response = outcomes.responseNaming(412, "incomplete", e.getMessage(),
                    e.prefetchKeys().stream().map(key -> "prefetch." + key).toList());
        } catch (RulesNotReadyException e) {
            response = outcomes.response(503, "transient", e.getMessage(), null);
        } catch (RuntimeException e) {
            log.error("Hook call to {} failed (correlation id {})", serviceId, MDC.get(RequestAttributes.CORRELATION_ID), e);
            response = outcomes.response(500, "exception",
                    "The service could not answer; the failure is logged under correlation id " + MDC.get(RequestAttributes.CORRELATION_ID), null);
        }
        events.publishEvent(new HookCompletedEvent(Instant.now(), serviceId,
                outcome != null ? outcome.request().hook() : text(body, "hook"),
                outcome != null ? outcome.request().hookInstance() : text(body, "hookInstance"),
                outcome != null ? outcome.request().context().patientId() : (body == null ? null : text(body.get("context"), "patientId")),
                (String) http.getAttribute(RequestAttributes.CLIENT_ISSUER), MDC.get(RequestAttributes.CORRELATION_ID),
                response.getStatusCode().value(), System.nanoTime() - started, outcome));
        return response;
    }

    private static String text(JsonNode node, String field) {
        if (node == null || !node.has(field) || !node.get(field).isTextual()) {
            return null;
        }
        String value = node.get(field).asText();
        return value.length() > 100 ? value.substring(0, 100) : value;
    }
}
