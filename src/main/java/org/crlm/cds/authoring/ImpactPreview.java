package org.crlm.cds.authoring;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.crlm.cds.cdshooks.HookOutcome;
import org.crlm.cds.cdshooks.HookService;
import org.crlm.cds.cdshooks.IssuedCard;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.CqlMessage;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleSet;
import org.springframework.stereotype.Component;

/**
 * What a candidate change would do before it is published: the gate's verdict, every scenario
 * whose cards change (rule ids before → after, and whether its expectation already says so),
 * and every stored patient whose {@code patient-view} cards change (read from the FHIR store,
 * as a hook call without prefetch would).
 */
@Component
public class ImpactPreview {

    /** A stored patient whose cards change. */
    public record PatientChange(String patientId, String service, Set<String> before, Set<String> after) {}

    /** The preview: problems that would refuse the publish, changed scenarios, changed patients. */
    public record Impact(
            boolean publishable,
            int scenariosRun,
            List<CqlMessage> problems,
            List<CqlMessage> warnings,
            List<PublishGate.ScenarioChange> scenarios,
            List<PatientChange> patients) {}

    private static final String PATIENT_VIEW = "patient-view";

    private final PublishGate gate;
    private final HookService hooks;
    private final ServiceCatalog catalog = new ServiceCatalog();
    private final ObjectMapper json = new ObjectMapper();

    public ImpactPreview(PublishGate gate, HookService hooks) {
        this.gate = gate;
        this.hooks = hooks;
    }

    public Impact preview(
            KnowledgeResources candidate, Map<String, Set<String>> expectations, List<String> patientIds) {
        PublishGate.Verdict verdict = gate.check(candidate, expectations);
        List<PatientChange> patients = new ArrayList<>();
        RuleSet live = hooks.rules();
        RuleSet next = verdict.ruleSet().orElse(null);
        if (next == null) {
            // Refused for a reason other than changed cards: compare what still compiles, if anything.
            next = gate.compileOnly(candidate).orElse(null);
        }
        if (next != null) {
            for (ServiceDefinition service : catalog.services(live)) {
                if (!PATIENT_VIEW.equals(service.hook())) {
                    continue;
                }
                for (String patientId : patientIds) {
                    Set<String> before = cards(live, service, patientId);
                    Set<String> after = cards(next, service, patientId);
                    if (!before.equals(after)) {
                        patients.add(new PatientChange(patientId, service.id(), before, after));
                    }
                }
            }
        }
        return new Impact(
                verdict.ok(),
                verdict.scenariosRun(),
                verdict.problems(),
                verdict.warnings(),
                verdict.changes(),
                patients);
    }

    private Set<String> cards(RuleSet rules, ServiceDefinition service, String patientId) {
        ObjectNode request = json.createObjectNode();
        request.put("hook", service.hook());
        request.put("hookInstance", UUID.randomUUID().toString());
        ObjectNode context = request.putObject("context");
        context.put("userId", "Practitioner/impact-preview");
        context.put("patientId", patientId);
        Set<String> cards = new TreeSet<>();
        try {
            HookOutcome outcome = hooks.answerWith(rules, service.id(), request);
            for (IssuedCard card : outcome.cards()) {
                cards.add(card.ruleId());
            }
            outcome.failedRules().forEach(r -> cards.add(r + " (failed)"));
        } catch (RuntimeException e) {
            cards.add("(error: " + e.getClass().getSimpleName() + ")");
        }
        return cards;
    }
}
