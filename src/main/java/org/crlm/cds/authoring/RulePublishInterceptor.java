package org.crlm.cds.authoring;

import org.crlm.cds.ops.LogSafe;
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
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.crlm.cds.knowledge.KnowledgeRepository;
import org.crlm.cds.knowledge.TrustedLoad;
import org.crlm.cds.rules.CqlMessage;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleLibrary;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSetBuilder;
import org.crlm.cds.security.FhirApiProperties;
import org.crlm.cds.security.SmartScopes;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Publishing rules through the FHIR API. Every create, update or delete of a Library,
 * PlanDefinition, ActivityDefinition, ValueSet, ConceptMap or CodeSystem is checked before it
 * is stored: the rules as they would be after the write must translate and every
 * PlanDefinition expression must exist. If not, the write is refused with 422 and an
 * OperationOutcome giving library, line and column, and the rules in service do not change.
 * If so, the new rules go into service when the transaction commits, before the response.
 */
@Component
@Interceptor
public class RulePublishInterceptor {

    private static final Logger log = LoggerFactory.getLogger(RulePublishInterceptor.class);
    static final String LINE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line";
    static final String COLUMN_EXTENSION = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col";
    private static final String SWAP_PENDING = RulePublishInterceptor.class.getName() + ".swap";

    private final IInterceptorService interceptors;
    private final KnowledgeRepository repository;
    private final RuleLibraryCache ruleCache;
    private final FhirContext fhirContext;
    private final FhirApiProperties fhirApi;

    public RulePublishInterceptor(IInterceptorService interceptors, KnowledgeRepository repository,
            RuleLibraryCache ruleCache, FhirContext fhirContext, FhirApiProperties fhirApi) {
        this.interceptors = interceptors;
        this.repository = repository;
        this.ruleCache = ruleCache;
        this.fhirContext = fhirContext;
        this.fhirApi = fhirApi;
    }

    @PostConstruct
    void register() {
        interceptors.registerInterceptor(this);
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
    public void onCreate(IBaseResource resource, RequestDetails request) {
        check(null, resource, request);
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
    public void onUpdate(IBaseResource previous, IBaseResource resource, RequestDetails request) {
        check(previous, resource, request);
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_DELETED)
    public void onDelete(IBaseResource resource, RequestDetails request) {
        if (!isKnowledge(resource) || TrustedLoad.isTrusted(request)) {
            return;
        }
        requireAuthoringScope(request);
        KnowledgeResources candidate = repository.load().without(resource.fhirType(), resource.getIdElement().getIdPart());
        refuseIfBroken(ruleCache.validate(candidate), resource);
        swapAfterCommit();
    }

    private void check(IBaseResource previous, IBaseResource resource, RequestDetails request) {
        if (!isKnowledge(resource) || TrustedLoad.isTrusted(request)) {
            return;
        }
        requireAuthoringScope(request);
        if (resource instanceof org.hl7.fhir.r4.model.PlanDefinition plan) {
            requireHttpsDocumentation(plan);
        }
        if (resource instanceof Library library && request instanceof ServletRequestDetails) {
            requireNewVersionForChangedCql(previous, library);
        }
        RuleSetBuilder.Result result = ruleCache.validate(repository.load().with(resource));
        refuseIfBroken(result, resource);
        if (resource instanceof Library library) {
            storeElm(library, result);
        }
        log.info("Publishing {}/{} version {}", resource.fhirType(), LogSafe.of(resource.getIdElement().getIdPart()),
                LogSafe.of(version(resource)));
        swapAfterCommit();
    }

    /** Card links come from documentation URLs: only https (never javascript:, data: or plain http). */
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
            for (String url : new String[] {artifact.getUrl(), artifact.hasDocument() ? artifact.getDocument().getUrl() : null}) {
                if (url != null && !url.toLowerCase(java.util.Locale.ROOT).startsWith("https://")) {
                    OperationOutcome outcome = new OperationOutcome();
                    outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR)
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
        List<String> scopes = SmartScopes.granted(SecurityContextHolder.getContext().getAuthentication());
        if (scopes == null || !scopes.contains(fhirApi.authoringScope())) {
            throw new ForbiddenOperationException("Publishing rules needs the " + fhirApi.authoringScope() + " scope");
        }
    }

    /** A card names its library version; the same version must always mean the same CQL. */
    private void requireNewVersionForChangedCql(IBaseResource previous, Library library) {
        if (!(previous instanceof Library before)) {
            return;
        }
        Optional<String> oldCql = RuleSetBuilder.cqlText(before);
        Optional<String> newCql = RuleSetBuilder.cqlText(library);
        if (oldCql.isPresent() && newCql.isPresent() && !oldCql.get().equals(newCql.get())
                && Objects.equals(before.getVersion(), library.getVersion())) {
            throw new UnprocessableEntityException(fhirContext, outcome(List.of(new CqlMessage(CqlMessage.Severity.ERROR,
                    library.getName(), null, null, "Library " + library.getName() + " version " + library.getVersion()
                    + " is already published with different CQL; change the version in the library header"))));
        }
    }

    private void refuseIfBroken(RuleSetBuilder.Result result, IBaseResource resource) {
        if (!result.ok()) {
            log.warn("Refused to publish {}/{}: {} problem(s), first: {}", resource.fhirType(),
                    LogSafe.of(resource.getIdElement().getIdPart()), result.problems().size(), LogSafe.of(result.problems().get(0)));
            throw new UnprocessableEntityException(fhirContext, outcome(result.problems()));
        }
    }

    private static void storeElm(Library library, RuleSetBuilder.Result result) {
        result.ruleSet().flatMap(rules -> rules.library(library.getUrl() + "|" + library.getVersion()))
                .map(RuleLibrary::elmJson)
                .ifPresent(elm -> {
                    library.getContent().removeIf(c -> "application/elm+json".equals(c.getContentType()));
                    library.addContent().setContentType("application/elm+json").setData(elm.getBytes(StandardCharsets.UTF_8));
                });
    }

    /** After commit (once per transaction), the stored rules go into service on this node. */
    private void swapAfterCommit() {
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            ruleCache.rebuild(repository.load());
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
                    .setCode(problem.line() != null ? OperationOutcome.IssueType.INVALID : OperationOutcome.IssueType.PROCESSING)
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
        return problem.line() == null ? problem.library() + ": " + problem.message()
                : problem.library() + " line " + problem.line() + ", column " + problem.column() + ": " + problem.message();
    }

    private static String version(IBaseResource resource) {
        return resource instanceof org.hl7.fhir.r4.model.MetadataResource m ? m.getVersion() : "";
    }
}
