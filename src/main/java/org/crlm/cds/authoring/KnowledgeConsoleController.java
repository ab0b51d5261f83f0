package org.crlm.cds.authoring;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.crlm.cds.cdshooks.OperationOutcomes;
import org.crlm.cds.knowledge.KnowledgeProperties;
import org.crlm.cds.knowledge.KnowledgeRepository;
import org.crlm.cds.knowledge.PublicationStamp;
import org.crlm.cds.knowledge.RepositoryFiles;
import org.crlm.cds.rules.CqlSource;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleSetBuilder;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.MetadataResource;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The console's knowledge workflow: impact preview and publish through the gate, every
 * version of each knowledge resource with its publisher and time, a diff between two
 * versions, rollback (an earlier content under a new version) and the export of the published
 * state as repository files.
 *
 * <p>A change is given as {@code cql} (a library's whole text, as the editor holds it) or as
 * {@code resource} (any knowledge resource as FHIR JSON), with optional {@code expectations}
 * (scenario id → expected rule ids) for the scenarios the change is meant to alter.
 */
@RestController
@RequestMapping(value = "/console/api", produces = MediaType.APPLICATION_JSON_VALUE)
public class KnowledgeConsoleController {

    private final KnowledgeRepository repository;
    private final KnowledgeProperties properties;
    private final KnowledgeHistory history;
    private final ImpactPreview impact;
    private final ScenarioStore scenarios;
    private final DaoRegistry daoRegistry;
    private final FhirContext fhirContext;
    private final OperationOutcomes outcomes;

    public KnowledgeConsoleController(
            KnowledgeRepository repository,
            KnowledgeProperties properties,
            KnowledgeHistory history,
            ImpactPreview impact,
            ScenarioStore scenarios,
            DaoRegistry daoRegistry,
            FhirContext fhirContext,
            OperationOutcomes outcomes) {
        this.repository = repository;
        this.properties = properties;
        this.history = history;
        this.impact = impact;
        this.scenarios = scenarios;
        this.daoRegistry = daoRegistry;
        this.fhirContext = fhirContext;
        this.outcomes = outcomes;
    }

    /** Which scenarios and stored patients would change their cards, and whether the gate would accept. */
    @PostMapping("/impact")
    public ResponseEntity<?> impact(@RequestBody JsonNode body) {
        Change change;
        try {
            change = change(body);
        } catch (IllegalArgumentException e) {
            return outcomes.response(400, "invalid", e.getMessage(), "resource");
        }
        return ResponseEntity.ok(withConflict(
                change.resource(),
                impact.preview(repository.load().with(change.resource()), change.expectations(), patientIds())));
    }

    /** The preview, refused first of all when the write would give a published version a second meaning. */
    private ImpactPreview.Impact withConflict(Resource resource, ImpactPreview.Impact preview) {
        Optional<String> conflict = history.versionConflict(resource);
        if (conflict.isEmpty()) {
            return preview;
        }
        List<org.crlm.cds.rules.CqlMessage> problems = new ArrayList<>(preview.problems());
        problems.add(
                0,
                new org.crlm.cds.rules.CqlMessage(
                        org.crlm.cds.rules.CqlMessage.Severity.ERROR, reference(resource), null, null, conflict.get()));
        return new ImpactPreview.Impact(
                false, preview.scenariosRun(), problems, preview.warnings(), preview.scenarios(), preview.patients());
    }

    public record Published(String resource, String version, String publishedBy) {}

    /** Publishes through the same gate as a FHIR write; a refusal is the gate's 422 OperationOutcome. */
    @PostMapping("/publish")
    public ResponseEntity<?> publish(@RequestBody JsonNode body) {
        Change change;
        try {
            change = change(body);
        } catch (IllegalArgumentException e) {
            return outcomes.response(400, "invalid", e.getMessage(), "resource");
        }
        return store(change.resource(), change.expectations());
    }

    public record VersionEntry(
            String versionId, String version, String publishedBy, String lastUpdated, String status) {}

    public record KnowledgeEntry(
            String type, String id, String url, String version, String publishedBy, String lastUpdated, int versions) {}

    /** Every knowledge resource in the store with its current version, publisher and number of stored versions. */
    @GetMapping("/knowledge")
    public List<KnowledgeEntry> knowledge() {
        List<KnowledgeEntry> entries = new ArrayList<>();
        for (IBaseResource r : repository.load().all()) {
            MetadataResource m = (MetadataResource) r;
            String id = r.getIdElement().getIdPart();
            entries.add(new KnowledgeEntry(
                    r.fhirType(),
                    id,
                    m.getUrl(),
                    m.getVersion(),
                    PublicationStamp.publishedBy(r),
                    m.getMeta().hasLastUpdated()
                            ? m.getMeta().getLastUpdatedElement().getValueAsString()
                            : null,
                    history.versions(r.fhirType(), id).size()));
        }
        entries.sort(Comparator.comparing(KnowledgeEntry::type).thenComparing(KnowledgeEntry::id));
        return entries;
    }

    /** Every stored version of one resource, newest first, with who published it and when. */
    @GetMapping("/knowledge/{type}/{id}/history")
    public ResponseEntity<?> history(@PathVariable String type, @PathVariable String id) {
        if (!KnowledgeResources.TYPES.contains(type)) {
            return outcomes.response(400, "invalid", "type must be one of " + KnowledgeResources.TYPES, "type");
        }
        List<VersionEntry> versions = new ArrayList<>();
        for (Resource r : history.versions(type, id)) {
            MetadataResource m = (MetadataResource) r;
            String by = PublicationStamp.publishedBy(r);
            versions.add(
                    0,
                    new VersionEntry(
                            r.getIdElement().getVersionIdPart(),
                            m.getVersion(),
                            by == null ? "repository (start-up loader)" : by,
                            m.getMeta().hasLastUpdated()
                                    ? m.getMeta().getLastUpdatedElement().getValueAsString()
                                    : null,
                            m.hasStatus() ? m.getStatus().toCode() : null));
        }
        if (versions.isEmpty()) {
            return outcomes.response(404, "not-found", "No " + type + "/" + id, null);
        }
        return ResponseEntity.ok(versions);
    }

    public record Diff(String resource, String from, String to, String diff) {}

    /** A line diff between two stored versions (the CQL for a Library, the JSON content otherwise). */
    @GetMapping("/knowledge/{type}/{id}/diff")
    public ResponseEntity<?> diff(
            @PathVariable String type, @PathVariable String id, @RequestParam String from, @RequestParam String to) {
        List<Resource> versions = KnowledgeResources.TYPES.contains(type) ? history.versions(type, id) : List.of();
        Optional<Resource> a = version(versions, from);
        Optional<Resource> b = version(versions, to);
        if (a.isEmpty() || b.isEmpty()) {
            return outcomes.response(
                    404,
                    "not-found",
                    "No stored version " + (a.isEmpty() ? from : to) + " of " + type + "/" + id,
                    a.isEmpty() ? "from" : "to");
        }
        String ref = type + "/" + id;
        return ResponseEntity.ok(new Diff(
                ref,
                from,
                to,
                TextDiff.unified(ref + "/_history/" + from, text(a.get()), ref + "/_history/" + to, text(b.get()))));
    }

    /** @param expectations scenario id → expected rule ids, for the scenarios the rollback changes */
    public record RollbackRequest(String versionId, String newVersion, Map<String, Set<String>> expectations) {}

    /** Publishes the content of an earlier stored version under a new version, through the gate. */
    @PostMapping("/knowledge/{type}/{id}/rollback")
    public ResponseEntity<?> rollback(
            @PathVariable String type, @PathVariable String id, @RequestBody RollbackRequest request) {
        Rollback rollback = rollbackCandidate(type, id, request);
        if (rollback.error() != null) {
            return rollback.error();
        }
        return store(rollback.content(), request.expectations() == null ? Map.of() : request.expectations());
    }

    /**
     * What the rollback would change, before it is made: the impact preview of the earlier
     * content under the new version (the scenarios and demo patients whose cards change back).
     */
    @PostMapping("/knowledge/{type}/{id}/rollback/impact")
    public ResponseEntity<?> rollbackImpact(
            @PathVariable String type, @PathVariable String id, @RequestBody RollbackRequest request) {
        Rollback rollback = rollbackCandidate(type, id, request);
        if (rollback.error() != null) {
            return rollback.error();
        }
        return ResponseEntity.ok(withConflict(
                rollback.content(),
                impact.preview(
                        repository.load().with(rollback.content()),
                        request.expectations() == null ? Map.of() : request.expectations(),
                        patientIds())));
    }

    private record Rollback(Resource content, ResponseEntity<?> error) {}

    private Rollback rollbackCandidate(String type, String id, RollbackRequest request) {
        if (request == null
                || request.versionId() == null
                || request.newVersion() == null
                || request.newVersion().isBlank()) {
            return new Rollback(
                    null,
                    outcomes.response(400, "invalid", "Give versionId (a stored version) and newVersion", "versionId"));
        }
        Optional<Resource> earlier = version(
                KnowledgeResources.TYPES.contains(type) ? history.versions(type, id) : List.of(), request.versionId());
        if (earlier.isEmpty()) {
            return new Rollback(
                    null,
                    outcomes.response(
                            404,
                            "not-found",
                            "No stored version " + request.versionId() + " of " + type + "/" + id,
                            "versionId"));
        }
        Resource content = earlier.get().copy();
        content.setMeta(null);
        content.setId(type + "/" + id);
        ((MetadataResource) content).setVersion(request.newVersion());
        if (content instanceof DomainResource domain) {
            domain.getExtension().removeIf(e -> PublicationStamp.PUBLISHED_BY.equals(e.getUrl()));
        }
        if (content instanceof Library library) {
            String cql = RuleSetBuilder.cqlText(library).orElse(null);
            library.getContent().clear();
            if (cql != null) {
                String renamed = cql.replaceFirst(
                        "(library\\s+\"?" + java.util.regex.Pattern.quote(library.getName())
                                + "\"?\\s+version\\s+)'[^']*'",
                        "$1'" + java.util.regex.Matcher.quoteReplacement(request.newVersion()) + "'");
                library.addContent().setContentType("text/cql").setData(renamed.getBytes(StandardCharsets.UTF_8));
            }
        }
        return new Rollback(content, null);
    }

    public record Export(Map<String, String> files, Map<String, Set<String>> scenarioExpectations) {}

    /**
     * The published state as repository files: {@code cql/<Name>.cql} for each CQL Library and
     * {@code fhir-resources/rules|terminology/<Type>-<id>.json} for the rest, and the scenario
     * expectations publishes have updated, so the repository can follow the server.
     */
    @GetMapping("/export")
    public Export export() {
        Map<String, String> files = new TreeMap<>();
        for (IBaseResource r : repository.load().all()) {
            if (r instanceof Library library && RuleSetBuilder.cqlText(library).isPresent()) {
                files.put(
                        "cql/" + library.getName() + ".cql",
                        RuleSetBuilder.cqlText(library).get());
                continue;
            }
            String folder =
                    switch (r.fhirType()) {
                        case "PlanDefinition", "ActivityDefinition", "Library" -> "rules";
                        default -> "terminology";
                    };
            files.put(
                    "fhir-resources/" + folder + "/" + r.fhirType() + "-"
                            + r.getIdElement().getIdPart() + ".json",
                    exportJson(r));
        }
        return new Export(files, scenarios.updatedExpectations());
    }

    // ---- helpers ----

    private record Change(Resource resource, Map<String, Set<String>> expectations) {}

    private Change change(JsonNode body) {
        Resource resource;
        if (body.hasNonNull("cql")) {
            resource = libraryFromCql(body.get("cql").asText());
        } else if (body.hasNonNull("resource")) {
            try {
                IBaseResource parsed = fhirContext
                        .newJsonParser()
                        .parseResource(body.get("resource").toString());
                if (!KnowledgeResources.TYPES.contains(parsed.fhirType())
                        || parsed.getIdElement().getIdPart() == null) {
                    throw new IllegalArgumentException(
                            "resource must be a knowledge resource with an id, one of " + KnowledgeResources.TYPES);
                }
                resource = (Resource) parsed;
                resource.setMeta(null);
            } catch (DataFormatException e) {
                throw new IllegalArgumentException("resource is not FHIR R4 JSON: " + e.getMessage());
            }
        } else {
            throw new IllegalArgumentException("Give cql (a library's text) or resource (a knowledge resource)");
        }
        Map<String, Set<String>> expectations = new LinkedHashMap<>();
        body.path("expectations").fields().forEachRemaining(e -> {
            Set<String> rules = new TreeSet<>();
            e.getValue().forEach(r -> rules.add(r.asText()));
            expectations.put(e.getKey(), rules);
        });
        return new Change(resource, expectations);
    }

    /** The stored Library of this name with the CQL replaced (or a new one): what the editor would publish. */
    private Library libraryFromCql(String text) {
        CqlSource cql = CqlSource.of(text, "console")
                .orElseThrow(
                        () -> new IllegalArgumentException("The CQL needs a header: library Name version '1.0.0'"));
        Library library = repository.load().libraries().stream()
                .filter(l -> cql.name().equals(l.getName()))
                .findFirst()
                .map(Library::copy)
                .orElseGet(() -> RepositoryFiles.toLibrary(cql, properties.canonicalBase()));
        library.setMeta(null);
        library.setVersion(cql.version());
        library.getContent().clear();
        library.addContent().setContentType("text/cql").setData(text.getBytes(StandardCharsets.UTF_8));
        return library;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private ResponseEntity<?> store(Resource resource, Map<String, Set<String>> expectations) {
        if (resource instanceof DomainResource domain) {
            expectations.forEach(
                    (id, rules) -> domain.addExtension(RulePublishInterceptor.expectationExtension(id, rules)));
        }
        SystemRequestDetails request = new SystemRequestDetails();
        request.getUserData().put(RulePublishInterceptor.AUTHOR, author());
        try {
            daoRegistry.getResourceDao(resource.fhirType()).update(resource, request);
        } catch (BaseServerResponseException e) {
            String body = e.getOperationOutcome() == null
                    ? outcomes.json("processing", e.getMessage(), null)
                    : fhirContext.newJsonParser().encodeResourceToString(e.getOperationOutcome());
            return ResponseEntity.status(e.getStatusCode())
                    .contentType(MediaType.valueOf("application/fhir+json"))
                    .body(body);
        }
        return ResponseEntity.ok(new Published(
                reference(resource),
                ((MetadataResource) resource).getVersion(),
                PublicationStamp.publishedBy(resource)));
    }

    private static String author() {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        return authentication != null
                        && authentication.isAuthenticated()
                        && authentication.getName() != null
                        && !"anonymousUser".equals(authentication.getName())
                ? authentication.getName() + " (console)"
                : "console (demo profile, no authentication)";
    }

    private List<String> patientIds() {
        List<String> ids = new ArrayList<>();
        var map = ca.uhn.fhir.jpa.searchparam.SearchParameterMap.newSynchronous();
        map.setCount(200);
        for (IBaseResource p : daoRegistry
                .getResourceDao(Patient.class)
                .search(map, new SystemRequestDetails())
                .getResources(0, 200)) {
            ids.add(p.getIdElement().getIdPart());
        }
        ids.sort(Comparator.naturalOrder());
        return ids;
    }

    private static Optional<Resource> version(List<Resource> versions, String versionId) {
        return versions.stream()
                .filter(r -> versionId.equals(r.getIdElement().getVersionIdPart()))
                .findFirst();
    }

    private String text(Resource resource) {
        if (resource instanceof Library library
                && RuleSetBuilder.cqlText(library).isPresent()) {
            return RuleSetBuilder.cqlText(library).get();
        }
        return PublicationStamp.content(resource);
    }

    private String exportJson(IBaseResource resource) {
        Resource copy = ((Resource) resource).copy();
        String content = PublicationStamp.content(copy);
        // content() drops the id; the repository's files keep it (ids make loading idempotent).
        Resource withId = (Resource) fhirContext.newJsonParser().parseResource(content);
        withId.setId(resource.getIdElement().getIdPart());
        return fhirContext.newJsonParser().setPrettyPrint(true).encodeResourceToString(withId);
    }

    private static String reference(IBaseResource resource) {
        return resource.fhirType() + "/" + resource.getIdElement().getIdPart();
    }
}
