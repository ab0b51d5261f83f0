package org.crlm.cds.authoring;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import jakarta.annotation.PostConstruct;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.knowledge.KnowledgeRepository;
import org.crlm.cds.knowledge.TrustedLoad;
import org.crlm.cds.ops.LogSafe;
import org.crlm.cds.rules.CqlMessage;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleLibrary;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.security.FhirApiProperties;
import org.crlm.cds.security.SmartScopes;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.StringType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Publishing knowledge through the FHIR API. Every create, update or delete of a Library,
 * PlanDefinition, ActivityDefinition, ValueSet, ConceptMap or CodeSystem goes through the
 * {@link PublishGate} before it is stored: the whole candidate knowledge set (the stored one
 * with this write, or with every knowledge entry of a transaction, applied) must compile with
 * every reference resolved, and every scenario of the server's store must evaluate with no
 * rule failing and no unexpected change of cards. A business version that is already stored
 * must keep its content. If not, the write is refused with 422 and an OperationOutcome naming
 * the reason (library, line and column for CQL), and the rules in service do not change. If
 * so, the write is stamped with its publisher and the new rules go into service when the
 * transaction commits, before the response.
 */
@Component
@Interceptor
public class RulePublishInterceptor {

    private static final Logger log = LoggerFactory.getLogger(RulePublishInterceptor.class);
    static final String LINE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line";
    static final String COLUMN_EXTENSION = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col";
    /** Set in a SystemRequestDetails' user data by server-side publishers (console, dev mode): who publishes. */
    public static final String AUTHOR = RulePublishInterceptor.class.getName() + ".author";

    private static final String SWAP_PENDING = RulePublishInterceptor.class.getName() + ".swap";
    private static final String VERDICT = RulePublishInterceptor.class.getName() + ".verdict";

    private final IInterceptorService interceptors;
    private final KnowledgeRepository repository;
    private final RuleLibraryCache ruleCache;
    private final FhirContext fhirContext;
    private final FhirApiProperties fhirApi;
    private final PublishGate gate;
    private final KnowledgeHistory history;
    private final ScenarioStore scenarios;

    public RulePublishInterceptor(
            IInterceptorService interceptors,
            KnowledgeRepository repository,
            RuleLibraryCache ruleCache,
            FhirContext fhirContext,
            FhirApiProperties fhirApi,
            PublishGate gate,
            KnowledgeHistory history,
            ScenarioStore scenarios) {
        this.interceptors = interceptors;
        this.repository = repository;
        this.ruleCache = ruleCache;
        this.fhirContext = fhirContext;
        this.fhirApi = fhirApi;
        this.gate = gate;
        this.history = history;
        this.scenarios = scenarios;
    }

    @PostConstruct
    void register() {
        interceptors.registerInterceptor(this);
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
    public void onCreate(IBaseResource resource, RequestDetails request) {
        check(resource, request);
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
    public void onUpdate(IBaseResource previous, IBaseResource resource, RequestDetails request) {
        check(resource, request);
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_DELETED)
    public void onDelete(IBaseResource resource, RequestDetails request) {
        if (!isKnowledge(resource) || TrustedLoad.isTrusted(request)) {
            return;
        }
        requireAuthoringScope(request);
        KnowledgeResources candidate = candidate(request, null)
                .without(resource.fhirType(), resource.getIdElement().getIdPart());
        PublishGate.Verdict verdict = verdict(request, candidate, Map.of());
        refuseIfBroken(verdict, resource);
        log.info(
                "Deleting {}/{} (checked against {} scenarios)",
                resource.fhirType(),
                resource.getIdElement().getIdPart(),
                verdict.scenariosRun());
        afterCommit(Map.of());
    }

    private void check(IBaseResource resource, RequestDetails request) {
        if (!isKnowledge(resource) || TrustedLoad.isTrusted(request)) {
            return;
        }
        requireAuthoringScope(request);
        if (resource instanceof org.hl7.fhir.r4.model.PlanDefinition plan) {
            requireHttpsDocumentation(plan);
        }
        Map<String, Set<String>> expectations = new LinkedHashMap<>(takeExpectations(resource));
        for (IBaseResource entry : transactionEntries(request)) {
            expectations.putAll(takeExpectations(entry));
        }
        history.versionConflict(resource).ifPresent(conflict -> {
            log.warn(
                    "Refused to publish {}/{}: {}",
                    resource.fhirType(),
                    resource.getIdElement().getIdPart(),
                    conflict);
            throw new UnprocessableEntityException(
                    fhirContext,
                    outcome(List.of(new CqlMessage(
                            CqlMessage.Severity.ERROR,
                            resource.fhirType() + "/" + resource.getIdElement().getIdPart(),
                            null,
                            null,
                            conflict))));
        });
        PublishGate.Verdict verdict = verdict(request, candidate(request, resource), expectations);
        refuseIfBroken(verdict, resource);
        stamp(resource, request);
        if (resource instanceof Library library) {
            storeElm(library, verdict);
        }
        log.info(
                "Publishing {}/{} version {} by {}: {} scenarios run, {} changed as expected",
                resource.fhirType(),
                LogSafe.of(resource.getIdElement().getIdPart()),
                LogSafe.of(version(resource)),
                LogSafe.of(KnowledgeHistory.publishedBy(resource)),
                verdict.scenariosRun(),
                verdict.changes().size());
        afterCommit(expectations);
    }

    /** One verdict per request: a transaction's entries are checked together, once. */
    private PublishGate.Verdict verdict(
            RequestDetails request, KnowledgeResources candidate, Map<String, Set<String>> expectations) {
        boolean transaction = !transactionEntries(request).isEmpty();
        if (transaction && request.getUserData().get(VERDICT) instanceof PublishGate.Verdict known) {
            return known;
        }
        PublishGate.Verdict verdict = gate.check(candidate, expectations);
        if (transaction) {
            request.getUserData().put(VERDICT, verdict);
        }
        return verdict;
    }

    /** The stored knowledge with this write applied, and in a transaction every other knowledge entry too. */
    private KnowledgeResources candidate(RequestDetails request, IBaseResource resource) {
        KnowledgeResources candidate = repository.load();
        if (request != null
                && request.getResource() instanceof Bundle bundle
                && bundle.getType() == Bundle.BundleType.TRANSACTION) {
            for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
                if (entry.getRequest().getMethod() == Bundle.HTTPVerb.DELETE
                        && entry.getRequest().hasUrl()) {
                    String[] parts = entry.getRequest().getUrl().split("[/?]");
                    if (parts.length >= 2 && KnowledgeResources.TYPES.contains(parts[0])) {
                        candidate = candidate.without(parts[0], parts[1]);
                    }
                } else if (entry.getResource() != null
                        && isKnowledge(entry.getResource())
                        && entry.getResource().getIdElement().getIdPart() != null) {
                    candidate = candidate.with(entry.getResource());
                }
            }
        }
        return resource == null ? candidate : candidate.with(resource);
    }

    private static List<IBaseResource> transactionEntries(RequestDetails request) {
        if (request != null
                && request.getResource() instanceof Bundle bundle
                && bundle.getType() == Bundle.BundleType.TRANSACTION) {
            List<IBaseResource> entries = new ArrayList<>();
            bundle.getEntry().stream()
                    .map(Bundle.BundleEntryComponent::getResource)
                    .filter(Objects::nonNull)
                    .filter(RulePublishInterceptor::isKnowledge)
                    .forEach(entries::add);
            return entries;
        }
        return List.of();
    }

    /** Reads and removes the scenario-expectation extensions (scenario id, expected rules) a write carries. */
    static Map<String, Set<String>> takeExpectations(IBaseResource resource) {
        Map<String, Set<String>> expectations = new LinkedHashMap<>();
        if (!(resource instanceof DomainResource domain)) {
            return expectations;
        }
        for (Extension e : domain.getExtensionsByUrl(KnowledgeHistory.SCENARIO_EXPECTATION)) {
            Extension scenario = e.getExtensionByUrl("scenario");
            if (scenario == null || !scenario.hasValue()) {
                continue;
            }
            Set<String> rules = new TreeSet<>();
            for (Extension rule : e.getExtensionsByUrl("rule")) {
                rules.add(rule.getValue().primitiveValue());
            }
            expectations.put(scenario.getValue().primitiveValue(), rules);
        }
        domain.getExtension().removeIf(e -> KnowledgeHistory.SCENARIO_EXPECTATION.equals(e.getUrl()));
        return expectations;
    }

    /** The extension that tells the gate a scenario's new expected rules (no rule extension: no cards). */
    public static Extension expectationExtension(String scenario, Set<String> rules) {
        Extension extension = new Extension(KnowledgeHistory.SCENARIO_EXPECTATION);
        extension.addExtension("scenario", new StringType(scenario));
        rules.forEach(r -> extension.addExtension("rule", new StringType(r)));
        return extension;
    }

    /** Who published this version: the token's subject over HTTP, the tool's name for server-side publishers. */
    private static void stamp(IBaseResource resource, RequestDetails request) {
        if (!(resource instanceof DomainResource domain)) {
            return;
        }
        String author = null;
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        if (request instanceof ServletRequestDetails
                && authentication != null
                && authentication.isAuthenticated()
                && !(authentication instanceof AnonymousAuthenticationToken)) {
            author = authentication.getName();
        }
        if (author == null && request != null && request.getUserData().get(AUTHOR) instanceof String named) {
            author = named;
        }
        if (author == null) {
            author =
                    request instanceof ServletRequestDetails ? "anonymous (FHIR API without authentication)" : "server";
        }
        domain.getExtension().removeIf(e -> KnowledgeHistory.PUBLISHED_BY.equals(e.getUrl()));
        domain.addExtension(KnowledgeHistory.PUBLISHED_BY, new StringType(author));
    }

    /** Card links come from documentation URLs: only https (never javascript:, data: or plain http). */
    /**
     * An https address, or a path to one of the project's own documents (no scheme, not
     * host-relative: "src/docs/evidence.md"), which no browser can turn into script or another site.
     */
    static boolean isHttpsOrProjectDocument(String url) {
        String lower = url.trim().toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("https://")) {
            return true;
        }
        return !lower.isEmpty() && !lower.contains(":") && !lower.startsWith("/") && !lower.startsWith("\\");
    }

    private void requireHttpsDocumentation(org.hl7.fhir.r4.model.PlanDefinition plan) {
        List<org.hl7.fhir.r4.model.RelatedArtifact> artifacts = new java.util.ArrayList<>(plan.getRelatedArtifact());
        java.util.ArrayDeque<org.hl7.fhir.r4.model.PlanDefinition.PlanDefinitionActionComponent> actions =
                new java.util.ArrayDeque<>(plan.getAction());
        while (!actions.isEmpty()) {
            var action = actions.pop();
            artifacts.addAll(action.getDocumentation());
            actions.addAll(action.getAction());
        }
        for (org.hl7.fhir.r4.model.RelatedArtifact artifact : artifacts) {
            for (String url : new String[] {
                artifact.getUrl(),
                artifact.hasDocument() ? artifact.getDocument().getUrl() : null
            }) {
                if (url != null && !isHttpsOrProjectDocument(url)) {
                    OperationOutcome outcome = new OperationOutcome();
                    outcome.addIssue()
                            .setSeverity(OperationOutcome.IssueSeverity.ERROR)
                            .setCode(OperationOutcome.IssueType.VALUE)
                            .setDiagnostics("A documentation URL must be https: " + LogSafe.of(url));
                    throw new UnprocessableEntityException(fhirContext, outcome);
                }
            }
        }
    }

    private static boolean isKnowledge(IBaseResource resource) {
        return SmartScopes.KNOWLEDGE_TYPES.contains(resource.fhirType());
    }

    /** Over HTTP (a transaction too), rules change only with the authoring scope. */
    private void requireAuthoringScope(RequestDetails request) {
        if (!fhirApi.enabled() || !(request instanceof ServletRequestDetails)) {
            return;
        }
        List<String> scopes =
                SmartScopes.granted(SecurityContextHolder.getContext().getAuthentication());
        if (scopes == null || !scopes.contains(fhirApi.authoringScope())) {
            throw new ForbiddenOperationException("Publishing rules needs the " + fhirApi.authoringScope() + " scope");
        }
    }

    private void refuseIfBroken(PublishGate.Verdict verdict, IBaseResource resource) {
        if (!verdict.ok()) {
            log.warn(
                    "Refused to publish {}/{}: {} problem(s), first: {}",
                    resource.fhirType(),
                    LogSafe.of(resource.getIdElement().getIdPart()),
                    verdict.problems().size(),
                    LogSafe.of(String.valueOf(verdict.problems().get(0))));
            throw new UnprocessableEntityException(fhirContext, outcome(verdict.problems()));
        }
    }

    private static void storeElm(Library library, PublishGate.Verdict verdict) {
        verdict.ruleSet()
                .flatMap(rules -> rules.library(library.getUrl() + "|" + library.getVersion()))
                .map(RuleLibrary::elmJson)
                .ifPresent(elm -> {
                    library.getContent().removeIf(c -> "application/elm+json".equals(c.getContentType()));
                    library.addContent()
                            .setContentType("application/elm+json")
                            .setData(elm.getBytes(StandardCharsets.UTF_8));
                });
    }

    /** After commit (once per transaction), the stored rules go into service on this node. */
    private void afterCommit(Map<String, Set<String>> expectations) {
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            ruleCache.rebuild(repository.load());
            scenarios.updateExpectations(expectations);
            return;
        }
        if (TransactionSynchronizationManager.hasResource(SWAP_PENDING)) {
            return;
        }
        TransactionSynchronizationManager.bindResource(SWAP_PENDING, Boolean.TRUE);
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCompletion(int status) {
                TransactionSynchronizationManager.unbindResourceIfPossible(SWAP_PENDING);
                if (status == STATUS_COMMITTED) {
                    scenarios.updateExpectations(expectations);
                    ruleCache.rebuild(repository.load());
                }
            }
        });
    }

    static OperationOutcome outcome(List<CqlMessage> problems) {
        OperationOutcome outcome = new OperationOutcome();
        for (CqlMessage problem : problems) {
            OperationOutcome.OperationOutcomeIssueComponent issue = outcome.addIssue()
                    .setSeverity(OperationOutcome.IssueSeverity.ERROR)
                    .setCode(
                            problem.line() != null
                                    ? OperationOutcome.IssueType.INVALID
                                    : OperationOutcome.IssueType.PROCESSING)
                    .setDiagnostics(describe(problem));
            if (problem.line() != null) {
                issue.addExtension(LINE_EXTENSION, new IntegerType(problem.line()));
                issue.addExtension(COLUMN_EXTENSION, new IntegerType(problem.column()));
                issue.addExpression("Library.content.where(contentType='text/cql')");
            }
        }
        return outcome;
    }

    static String describe(CqlMessage problem) {
        return problem.line() == null
                ? problem.library() + ": " + problem.message()
                : problem.library() + " line " + problem.line() + ", column " + problem.column() + ": "
                        + problem.message();
    }

    private static String version(IBaseResource resource) {
        return resource instanceof org.hl7.fhir.r4.model.MetadataResource m ? m.getVersion() : "";
    }
}
