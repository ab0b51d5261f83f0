package org.crlm.cds.authoring;

import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import jakarta.annotation.PostConstruct;
import org.crlm.cds.knowledge.KnowledgeRepository;
import org.crlm.cds.rules.CqlMessage;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSetBuilder;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

/**
 * {@code POST /fhir/Library/$validate-rules} and {@code POST /fhir/PlanDefinition/$validate-rules}
 * (Parameters with a {@code resource}): the publish check without saving. Answers an
 * OperationOutcome: the same errors, with line and column, that a PUT would be refused with,
 * or one information issue when the rules would compile.
 */
@Component
public class RuleValidationProvider {

    private final KnowledgeRepository repository;
    private final RuleLibraryCache ruleCache;
    private final RestfulServer server;

    public RuleValidationProvider(KnowledgeRepository repository, RuleLibraryCache ruleCache, RestfulServer server) {
        this.repository = repository;
        this.ruleCache = ruleCache;
        this.server = server;
    }

    @PostConstruct
    void register() {
        server.registerProvider(this);
    }

    @Operation(name = "$validate-rules", type = Library.class, idempotent = false)
    public OperationOutcome validateLibrary(@OperationParam(name = "resource", min = 1, max = 1) Library resource) {
        return validate(resource, Library.class);
    }

    @Operation(name = "$validate-rules", type = PlanDefinition.class, idempotent = false)
    public OperationOutcome validatePlanDefinition(@OperationParam(name = "resource", min = 1, max = 1) PlanDefinition resource) {
        return validate(resource, PlanDefinition.class);
    }

    private OperationOutcome validate(IBaseResource resource, Class<? extends Resource> type) {
        if (!type.isInstance(resource)) {
            throw new InvalidRequestException("The resource parameter must be a " + type.getSimpleName());
        }
        if (resource.getIdElement().getIdPart() == null) {
            resource.setId(type.getSimpleName() + "/unsaved");
        }
        RuleSetBuilder.Result result = ruleCache.validate(repository.load().with(resource));
        OperationOutcome outcome = RulePublishInterceptor.outcome(result.problems());
        for (CqlMessage warning : result.warnings()) {
            outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.WARNING)
                    .setCode(OperationOutcome.IssueType.INFORMATIONAL).setDiagnostics(RulePublishInterceptor.describe(warning));
        }
        if (result.ok()) {
            outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.INFORMATION)
                    .setCode(OperationOutcome.IssueType.INFORMATIONAL)
                    .setDiagnostics("The rules would compile and every PlanDefinition expression exists");
        }
        return outcome;
    }
}
