package org.crlm.cds.authoring;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.crlm.cds.cdshooks.CdsJson;
import org.crlm.cds.cdshooks.DataUnavailableException;
import org.crlm.cds.cdshooks.HookOutcome;
import org.crlm.cds.cdshooks.HookRequestParser;
import org.crlm.cds.cdshooks.HookService;
import org.crlm.cds.cdshooks.InvalidHookRequestException;
import org.crlm.cds.cdshooks.OperationOutcomes;
import org.crlm.cds.cdshooks.PrefetchTemplates;
import org.crlm.cds.feedback.FeedbackRepository;
import org.crlm.cds.knowledge.KnowledgeProperties;
import org.crlm.cds.knowledge.KnowledgeRepository;
import org.crlm.cds.knowledge.RepositoryFiles;
import org.crlm.cds.knowledge.RuleDefinition;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.CqlMessage;
import org.crlm.cds.rules.CqlSource;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleLibrary;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.rules.RuleSetBuilder;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.Patient;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The authoring console's API (the page is /console/): what is in service, a library's CQL,
 * validation as you type, demo patients, and running a hook with the "why" (every rule
 * expression's value). Publishing goes through the FHIR API itself.
 */
@RestController
@RequestMapping(value = "/console/api", produces = MediaType.APPLICATION_JSON_VALUE)
public class ConsoleApiController {

    private final RuleLibraryCache ruleCache;
    private final ServiceCatalog catalog;
    private final KnowledgeRepository knowledge;
    private final KnowledgeProperties knowledgeProperties;
    private final FeedbackRepository feedback;
    private final HookService hooks;
    private final RuleExplainer explainer;
    private final DaoRegistry daoRegistry;
    private final FhirContext fhirContext;
    private final CdsJson cdsJson;
    private final OperationOutcomes outcomes;
    private final KnowledgeHistory history;
    private final ObjectMapper json = new ObjectMapper();
    private final AuthoringProperties authoring;
    private final ScenarioStore scenarios;
    private final RuleTestRunner runner;

    private boolean isTestPatient(String patientId) {
        try {
            Patient patient = (Patient) daoRegistry
                    .getResourceDao(Patient.class)
                    .read(new org.hl7.fhir.r4.model.IdType("Patient", patientId), new SystemRequestDetails());
            return patient.getMeta().getTag().stream()
                            .anyMatch(c -> TEST_DATA_CODE.equals(c.getCode()) && TEST_DATA_SYSTEM.equals(c.getSystem()))
                    || patient.getMeta().getSecurity().stream()
                            .anyMatch(
                                    c -> TEST_DATA_CODE.equals(c.getCode()) && TEST_DATA_SYSTEM.equals(c.getSystem()));
        } catch (RuntimeException e) {
            return false; // unknown or deleted: not a test patient
        }
    }

    public ConsoleApiController(
            RuleLibraryCache ruleCache,
            ServiceCatalog catalog,
            KnowledgeRepository knowledge,
            KnowledgeProperties knowledgeProperties,
            FeedbackRepository feedback,
            HookService hooks,
            RuleExplainer explainer,
            DaoRegistry daoRegistry,
            FhirContext fhirContext,
            CdsJson cdsJson,
            OperationOutcomes outcomes,
            AuthoringProperties authoring,
            KnowledgeHistory history,
            ScenarioStore scenarios,
            org.crlm.cds.knowledge.DecisionEvaluator evaluator) {
        this.authoring = authoring;
        this.scenarios = scenarios;
        this.runner = new RuleTestRunner(evaluator, catalog);
        this.history = history;
        this.ruleCache = ruleCache;
        this.catalog = catalog;
        this.knowledge = knowledge;
        this.knowledgeProperties = knowledgeProperties;
        this.feedback = feedback;
        this.hooks = hooks;
        this.explainer = explainer;
        this.daoRegistry = daoRegistry;
        this.fhirContext = fhirContext;
        this.cdsJson = cdsJson;
        this.outcomes = outcomes;
    }

    public record LibrarySummary(String name, String version, String url, String resourceId) {}

    public record RuleSummary(
            String ruleId,
            String title,
            String priority,
            String planDefinition,
            String library,
            String libraryVersion,
            Governance governance) {}

    /** Who wrote and reviewed a rule, when it was approved and last reviewed, when it is in force, and its sources. */
    public record Governance(
            List<String> authors,
            List<String> reviewers,
            String approvalDate,
            String lastReviewDate,
            String effectiveFrom,
            String effectiveTo,
            List<Citation> citations) {}

    public record Citation(String label, String display, String url) {}

    private static Governance governance(RuleSet rules, String planDefinition) {
        return rules.planDefinition(planDefinition)
                .map(plan -> new Governance(
                        plan.getAuthor().stream()
                                .map(org.hl7.fhir.r4.model.ContactDetail::getName)
                                .toList(),
                        plan.getReviewer().stream()
                                .map(org.hl7.fhir.r4.model.ContactDetail::getName)
                                .toList(),
                        plan.hasApprovalDate() ? plan.getApprovalDateElement().getValueAsString() : null,
                        plan.hasLastReviewDate()
                                ? plan.getLastReviewDateElement().getValueAsString()
                                : null,
                        plan.getEffectivePeriod().hasStart()
                                ? plan.getEffectivePeriod().getStartElement().getValueAsString()
                                : null,
                        plan.getEffectivePeriod().hasEnd()
                                ? plan.getEffectivePeriod().getEndElement().getValueAsString()
                                : null,
                        plan.getRelatedArtifact().stream()
                                .filter(a -> a.getType()
                                        == org.hl7.fhir.r4.model.RelatedArtifact.RelatedArtifactType.CITATION)
                                .map(a -> new Citation(a.getLabel(), a.getDisplay(), a.getUrl()))
                                .toList()))
                .orElse(null);
    }

    public record ServiceSummary(String id, String hook, String title, List<RuleSummary> rules) {}

    public record Overview(
            long generation,
            List<LibrarySummary> libraries,
            List<ServiceSummary> services,
            List<FeedbackRepository.RuleCounts> feedback) {}

    @GetMapping("/overview")
    public Overview overview() {
        RuleSet rules = hooks.rules();
        List<LibrarySummary> libraries = rules.libraries().stream()
                .map(l -> new LibrarySummary(l.name(), l.version(), l.url(), l.resourceId()))
                .sorted(java.util.Comparator.comparing(LibrarySummary::name))
                .toList();
        List<ServiceSummary> services = new ArrayList<>();
        for (ServiceDefinition service : catalog.services(rules)) {
            List<RuleSummary> ruleSummaries = new ArrayList<>();
            for (RuleDefinition rule : service.rules()) {
                String library =
                        rule.condition() == null ? null : rule.condition().libraryCanonical();
                ruleSummaries.add(new RuleSummary(
                        rule.ruleId(),
                        rule.summary(),
                        rule.priority(),
                        rule.planDefinition(),
                        library,
                        library == null
                                ? null
                                : rules.library(library)
                                        .map(RuleLibrary::version)
                                        .orElse(null),
                        governance(rules, rule.planDefinition())));
            }
            services.add(new ServiceSummary(service.id(), service.hook(), service.title(), ruleSummaries));
        }
        return new Overview(rules.generation(), libraries, services, feedback.countsByRuleVersion());
    }

    public record LibrarySource(String name, String version, String url, String resourceId, String cql) {}

    @GetMapping("/libraries/{name}")
    public ResponseEntity<?> library(@PathVariable String name) {
        Optional<RuleLibrary> library = hooks.rules().libraries().stream()
                .filter(l -> l.name().equals(name))
                .max(java.util.Comparator.comparing(RuleLibrary::version, org.crlm.cds.rules.Versions.ORDER));
        return library.<ResponseEntity<?>>map(l ->
                        ResponseEntity.ok(new LibrarySource(l.name(), l.version(), l.url(), l.resourceId(), l.cql())))
                .orElseGet(() -> outcomes.response(404, "not-found", "No library " + name, null));
    }

    public record ValidateRequest(String cql) {}

    public record ValidationResult(
            boolean ok, String library, String version, List<CqlMessage> errors, List<CqlMessage> warnings) {}

    /** The CQL as if published now: the stored rules with this library replaced. Nothing is saved. */
    @PostMapping("/validate")
    public ValidationResult validate(@RequestBody ValidateRequest request) {
        String text = request == null || request.cql() == null ? "" : request.cql();
        Optional<CqlSource> source = CqlSource.of(text, "console");
        if (source.isEmpty()) {
            return new ValidationResult(
                    false,
                    null,
                    null,
                    List.of(new CqlMessage(
                            CqlMessage.Severity.ERROR,
                            "(new)",
                            1,
                            1,
                            "The CQL needs a header: library Name version '1.0.0'")),
                    List.of());
        }
        CqlSource cql = source.get();
        KnowledgeResources stored = knowledge.load();
        Library library = stored.libraries().stream()
                .filter(l -> cql.name().equals(l.getName()))
                .findFirst()
                .map(Library::copy)
                .orElseGet(() -> RepositoryFiles.toLibrary(cql, knowledgeProperties.canonicalBase()));
        library.setVersion(cql.version());
        library.getContent().clear();
        library.addContent().setContentType("text/cql").setData(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        RuleSetBuilder.Result result = ruleCache.validate(stored.with(library));
        List<CqlMessage> errors = new ArrayList<>(result.problems());
        history.versionConflict(library)
                .ifPresent(conflict -> errors.add(
                        0, new CqlMessage(CqlMessage.Severity.ERROR, cql.name(), headerLine(text), 1, conflict)));
        return new ValidationResult(errors.isEmpty(), cql.name(), cql.version(), errors, result.warnings());
    }

    private static int headerLine(String text) {
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].trim().startsWith("library ")) {
                return i + 1;
            }
        }
        return 1;
    }

    public record PatientSummary(String id, String name, String birthDate, String gender) {}

    static final String TEST_DATA_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
    static final String TEST_DATA_CODE = "HTEST";

    @GetMapping("/patients")
    public List<PatientSummary> patients() {
        List<IBaseResource> found = new ArrayList<>();
        if (authoring.testPatientsOnly()) {
            // Test patients only: labelled HTEST as a meta tag or as a security label.
            for (String label : List.of("_tag", "_security")) {
                SearchParameterMap map = SearchParameterMap.newSynchronous();
                map.setCount(200);
                map.add(label, new ca.uhn.fhir.rest.param.TokenParam(TEST_DATA_SYSTEM, TEST_DATA_CODE));
                found.addAll(daoRegistry
                        .getResourceDao(Patient.class)
                        .search(map, new SystemRequestDetails())
                        .getResources(0, 200));
            }
        } else {
            SearchParameterMap map = SearchParameterMap.newSynchronous();
            map.setCount(200);
            found.addAll(daoRegistry
                    .getResourceDao(Patient.class)
                    .search(map, new SystemRequestDetails())
                    .getResources(0, 200));
        }
        List<PatientSummary> patients = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (IBaseResource r : found) {
            Patient p = (Patient) r;
            if (!seen.add(p.getIdElement().getIdPart())) {
                continue;
            }
            String name = p.hasName()
                    ? p.getNameFirstRep().getNameAsSingleString()
                    : p.getIdElement().getIdPart();
            patients.add(new PatientSummary(
                    p.getIdElement().getIdPart(),
                    name,
                    p.hasBirthDate() ? p.getBirthDateElement().getValueAsString() : null,
                    p.hasGender() ? p.getGender().toCode() : null));
        }
        patients.sort(java.util.Comparator.comparing(PatientSummary::id));
        return patients;
    }

    /** A run's service, patient and CDS Hooks request, or why it cannot be made. */
    private record Prepared(ServiceDefinition service, String patientId, ObjectNode request, ResponseEntity<?> error) {

        static Prepared refused(ResponseEntity<?> error) {
            return new Prepared(null, null, null, error);
        }
    }

    private Prepared prepare(RuleSet rules, JsonNode body) {
        String serviceId = body.path("serviceId").asText(null);
        Optional<ServiceDefinition> service = serviceId == null ? Optional.empty() : catalog.service(rules, serviceId);
        if (service.isEmpty()) {
            return Prepared.refused(outcomes.response(
                    400, "invalid", "serviceId must name a service (see /cds-services)", "serviceId"));
        }
        String patientId = body.path("patientId").asText(null);
        List<IBaseResource> pasted = null;
        if (body.hasNonNull("bundle")) {
            Bundle bundle;
            try {
                bundle = fhirContext
                        .newJsonParser()
                        .parseResource(Bundle.class, body.get("bundle").toString());
            } catch (DataFormatException | ClassCastException e) {
                return Prepared.refused(outcomes.response(
                        400, "invalid", "bundle must be a FHIR R4 Bundle: " + e.getMessage(), "bundle"));
            }
            pasted = new ArrayList<>();
            for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
                if (entry.getResource() != null) {
                    pasted.add(entry.getResource());
                }
            }
            patientId = pasted.stream()
                    .filter(r -> r instanceof Patient)
                    .map(r -> r.getIdElement().getIdPart())
                    .findFirst()
                    .orElse(null);
            if (patientId == null) {
                return Prepared.refused(
                        outcomes.response(400, "invalid", "The bundle must hold the Patient (with an id)", "bundle"));
            }
        }
        if (patientId == null || patientId.isBlank()) {
            return Prepared.refused(outcomes.response(
                    400, "invalid", "Give patientId (a stored patient) or bundle (a pasted record)", "patientId"));
        }
        if (pasted == null && authoring.testPatientsOnly() && !isTestPatient(patientId)) {
            return Prepared.refused(outcomes.response(
                    403, "forbidden", "The console runs stored test patients (labelled HTEST) only", "patientId"));
        }
        ObjectNode request = hookRequest(
                service.get(), patientId, body.path("addDraftAblation").asBoolean(false));
        if (pasted != null) {
            Map<String, String> templates = new LinkedHashMap<>();
            service.get().prefetch().forEach((k, v) -> templates.put(k, PrefetchTemplates.expandValueSets(v, rules)));
            request.set("prefetch", BundlePrefetch.full(templates, patientId, pasted));
        }
        return new Prepared(service.get(), patientId, request, null);
    }

    /** Runs a service for a stored patient (read from the store) or a pasted Bundle (sent as prefetch). */
    @PostMapping("/run")
    public ResponseEntity<?> run(@RequestBody JsonNode body) throws IOException {
        RuleSet rules = hooks.rules();
        Prepared run = prepare(rules, body);
        if (run.error() != null) {
            return run.error();
        }
        String serviceId = run.service().id();
        String patientId = run.patientId();
        ObjectNode request = run.request();
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("request", request);
        try {
            HookOutcome outcome = hooks.call(serviceId, request);
            answer.put("status", 200);
            answer.put("response", json.readTree(cdsJson.write(outcome.response())));
            RuleExplainer.Explanation why = explainer.explain(
                    rules, run.service(), patientId, outcome.record().resources());
            answer.put("rules", why.rules());
            answer.put("expressions", why.expressions());
        } catch (InvalidHookRequestException e) {
            answer.put("status", 400);
            answer.put("response", json.readTree(outcomes.json("invalid", e.getMessage(), e.field())));
        } catch (DataUnavailableException e) {
            answer.put("status", 412);
            answer.put(
                    "response",
                    json.readTree(outcomes.json("incomplete", e.getMessage(), "prefetch." + e.prefetchKey())));
        }
        return ResponseEntity.ok(answer);
    }

    public record SavedScenario(String id, String file, String title, List<String> expectedRules, String yaml) {}

    /**
     * Runs the service as {@code /run} does and saves the run as a scenario (short YAML) in the
     * server's scenario store, which the publish gate runs on every knowledge write: the record
     * the rules read, the draft orders sent, and the rules whose cards came back as the
     * expectation. Body: the fields of {@code /run} plus {@code id} (the file name) and {@code title}.
     */
    @PostMapping("/scenarios")
    public ResponseEntity<?> saveRunAsScenario(@RequestBody JsonNode body) {
        String id = body.path("id").asText("").trim();
        String title = body.path("title").asText("").trim();
        if (title.isEmpty()) {
            return outcomes.response(400, "invalid", "Give the scenario a title (what it checks)", "title");
        }
        RuleSet rules = hooks.rules();
        Prepared run = prepare(rules, body);
        if (run.error() != null) {
            return run.error();
        }
        HookOutcome outcome;
        try {
            outcome = hooks.call(run.service().id(), run.request());
        } catch (InvalidHookRequestException | DataUnavailableException e) {
            return outcomes.response(422, "processing", "The run gave no cards to save: " + e.getMessage(), null);
        }
        if (!outcome.failedRules().isEmpty()) {
            return outcomes.response(
                    422,
                    "processing",
                    "Rules " + outcome.failedRules() + " failed to evaluate; a scenario cannot expect a failure",
                    null);
        }
        java.util.Set<String> expected = new java.util.TreeSet<>();
        outcome.cards().forEach(card -> expected.add(card.ruleId()));
        String yaml = RunAsScenario.yaml(
                title,
                run.service().hook(),
                run.patientId(),
                outcome.record().resources(),
                run.request().path("context"),
                expected,
                java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC));
        RuleTestCase saved;
        try {
            saved = scenarios.save(id, yaml, candidate -> {
                RuleTestRunner.Outcome check = runner.run(rules, candidate);
                return check.passed()
                        ? Optional.empty()
                        : Optional.of("the saved record gives " + check.fired() + " "
                                + (check.failures().isEmpty()
                                        ? ""
                                        : check.failures().toString())
                                + " through the rule test runner, not the run's " + expected);
            });
        } catch (IllegalArgumentException e) {
            return outcomes.response(400, "invalid", e.getMessage(), "id");
        } catch (IllegalStateException e) {
            return outcomes.response(422, "processing", e.getMessage(), null);
        }
        return ResponseEntity.ok(new SavedScenario(
                saved.id(),
                saved.file().getFileName().toString(),
                saved.title(),
                List.copyOf(new java.util.TreeSet<>(saved.expectedRules())),
                yaml));
    }

    private ObjectNode hookRequest(ServiceDefinition service, String patientId, boolean addDraftAblation) {
        ObjectNode request = json.createObjectNode();
        request.put("hook", service.hook());
        request.put("hookInstance", UUID.randomUUID().toString());
        ObjectNode context = request.putObject("context");
        context.put("userId", "Practitioner/console-user");
        context.put("patientId", patientId);
        if (HookRequestParser.ORDER_HOOKS.contains(service.hook())) {
            ObjectNode drafts = context.putObject("draftOrders");
            drafts.put("resourceType", "Bundle");
            drafts.put("type", "collection");
            var entries = drafts.putArray("entry");
            if (addDraftAblation) {
                ObjectNode order = entries.addObject().putObject("resource");
                order.put("resourceType", "ServiceRequest");
                order.put("id", "console-draft-ablation");
                order.put("status", "draft");
                order.put("intent", "order");
                order.putObject("subject").put("reference", "Patient/" + patientId);
                order.putObject("code").put("text", "Microwave ablation of liver lesion");
            }
            if ("order-select".equals(service.hook())) {
                var selections = context.putArray("selections");
                if (addDraftAblation) {
                    selections.add("ServiceRequest/console-draft-ablation");
                }
            }
        }
        return request;
    }
}
