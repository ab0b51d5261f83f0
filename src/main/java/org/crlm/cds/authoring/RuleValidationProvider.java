package org.crlm.cds.authoring;

import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import jakarta.annotation.PostConstruct;
import java.util.List;
import org.crlm.cds.knowledge.KnowledgeRepository;
import org.crlm.cds.rules.CqlMessage;
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
 * or one information issue when the candidate passes the publish gate.
 */
@Component
public class RuleValidationProvider {

    private final KnowledgeRepository repository;
    private final PublishGate gate;
    private final KnowledgeHistory history;
    private final RestfulServer server;

    public RuleValidationProvider(
            KnowledgeRepository repository, PublishGate gate, KnowledgeHistory history, RestfulServer server) {
        this.repository = repository;
        this.gate = gate;
        this.history = history;
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
    public OperationOutcome validatePlanDefinition(
            @OperationParam(name = "resource", min = 1, max = 1) PlanDefinition resource) {
        return validate(resource, PlanDefinition.class);
    }

    private OperationOutcome validate(IBaseResource resource, Class<? extends Resource> type) {
        if (!type.isInstance(resource)) {
            throw new InvalidRequestException("The resource parameter must be a " + type.getSimpleName());
        }
        if (resource.getIdElement().getIdPart() == null) {
            resource.setId(type.getSimpleName() + "/unsaved");
        }
        java.util.Map<String, java.util.Set<String>> expectations = RulePublishInterceptor.takeExpectations(resource);
        PublishGate.Verdict result = history.versionConflict(resource)
                .map(conflict -> new PublishGate.Verdict(
                        java.util.Optional.empty(),
                        List.of(new CqlMessage(CqlMessage.Severity.ERROR, resource.fhirType(), null, null, conflict)),
                        List.of(),
                        List.of(),
                        0))
                .orElseGet(() -> gate.check(repository.load().with(resource), expectations));
        OperationOutcome outcome = RulePublishInterceptor.outcome(result.problems());
        for (CqlMessage warning : result.warnings()) {
            outcome.addIssue()
                    .setSeverity(OperationOutcome.IssueSeverity.WARNING)
                    .setCode(OperationOutcome.IssueType.INFORMATIONAL)
                    .setDiagnostics(RulePublishInterceptor.describe(warning));
        }
        if (result.ok()) {
            outcome.addIssue()
                    .setSeverity(OperationOutcome.IssueSeverity.INFORMATION)
                    .setCode(OperationOutcome.IssueType.INFORMATIONAL)
                    .setDiagnostics("The rules would compile, every reference resolves and all " + result.scenariosRun()
                            + " scenarios evaluate"
                            + (result.changes().isEmpty()
                                    ? " with unchanged cards"
                                    : "; " + result.changes().size()
                                            + " scenario(s) change their cards as their expectations say"));
        }
        return outcome;
    }
}
