package org.crlm.cds.smart;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.crlm.cds.cdshooks.HookService;
import org.crlm.cds.cdshooks.OperationOutcomes;
import org.crlm.cds.cdshooks.PrefetchTemplates;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The Ablation planning view's API. The app reads the patient's record from the EHR's FHIR server
 * itself (fhirclient, with the EHR's token) using the queries the patient-view service declares,
 * then posts what it read here to have the rules evaluate it. This API reads no store and keeps
 * nothing: it answers only about the data it is sent, so it needs no FHIR token of its own.
 */
@RestController
@RequestMapping(value = "/smart/api", produces = MediaType.APPLICATION_JSON_VALUE)
public class PlanningViewController {

    /** The service whose decision the view shows: the chart-open advice. */
    static final String SERVICE_ID = "crlm-ablation-patient-view";

    private final HookService hooks;
    private final ServiceCatalog catalog;
    private final PlanningView view;
    private final FhirContext fhirContext;
    private final OperationOutcomes outcomes;
    private final SmartAppProperties properties;

    public PlanningViewController(
            HookService hooks,
            ServiceCatalog catalog,
            PlanningView view,
            FhirContext fhirContext,
            OperationOutcomes outcomes,
            SmartAppProperties properties) {
        this.hooks = hooks;
        this.catalog = catalog;
        this.view = view;
        this.fhirContext = fhirContext;
        this.outcomes = outcomes;
        this.properties = properties;
    }

    /** The searches the view runs on the EHR's FHIR server: the patient-view service's prefetch templates. */
    public record Queries(String service, Map<String, String> queries) {}

    @GetMapping("/queries")
    public ResponseEntity<?> queries() {
        RuleSet rules = hooks.rules();
        Optional<ServiceDefinition> service = catalog.service(rules, SERVICE_ID);
        if (service.isEmpty()) {
            return outcomes.response(404, "not-found", "No service " + SERVICE_ID + " in the rules in service", null);
        }
        Map<String, String> queries = new LinkedHashMap<>();
        service.get()
                .prefetch()
                .forEach((key, template) -> queries.put(key, PrefetchTemplates.expandValueSets(template, rules)));
        return ResponseEntity.ok(new Queries(SERVICE_ID, queries));
    }

    /** The view of the posted record (a FHIR Bundle of the patient's resources). */
    @PostMapping(
            value = "/planning",
            consumes = {"application/fhir+json", MediaType.APPLICATION_JSON_VALUE})
    public ResponseEntity<?> planning(@RequestParam("patient") String patientId, @RequestBody String body) {
        if (body.length() > properties.maxRecordSize().toBytes()) {
            return outcomes.response(413, "too-costly", "The record is larger than this view accepts", null);
        }
        if (patientId == null || !patientId.matches("[A-Za-z0-9\\-.]{1,64}")) {
            return outcomes.response(400, "invalid", "patient must be a FHIR id", "patient");
        }
        Bundle bundle;
        try {
            bundle = fhirContext.newJsonParser().parseResource(Bundle.class, body);
        } catch (DataFormatException | ClassCastException e) {
            return outcomes.response(400, "invalid", "The body must be a FHIR R4 Bundle", "body");
        }
        List<IBaseResource> record = new ArrayList<>();
        for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
            if (entry.getResource() != null) {
                record.add(entry.getResource());
            }
        }
        RuleSet rules = hooks.rules();
        Optional<ServiceDefinition> service = catalog.service(rules, SERVICE_ID);
        if (service.isEmpty()) {
            return outcomes.response(404, "not-found", "No service " + SERVICE_ID + " in the rules in service", null);
        }
        return ResponseEntity.ok(view.evaluate(rules, service.get(), patientId, record));
    }
}
