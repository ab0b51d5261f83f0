package org.crlm.cds.cdshooks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.authoring.RuleTestCase;
import org.crlm.cds.knowledge.Decision;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.support.RepositoryRules;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.springframework.util.unit.DataSize;

/** The cards a scenario of cql/tests gets, dealt as the hook path deals them (no HTTP, no Spring). */
final class ScenarioDecks {

    private final DecisionEvaluator evaluator = new DecisionEvaluator(new RuleEngine());
    private final ServiceCatalog catalog = new ServiceCatalog();
    private final CardDeck deck = new CardDeck(new CardFactory(new CdsHooksProperties(
            true,
            "http://crlm-cds.org/fhir/CodeSystem/crlm-override-reason",
            Duration.ofSeconds(5),
            DataSize.ofMegabytes(20),
            20,
            5000,
            8,
            "http://127.0.0.1:8080/smart/launch.html")));

    CardDeck.Dealt deal(RuleTestCase s) {
        RuleSet rules = RepositoryRules.get();
        ServiceDefinition service = catalog.service(rules, s.serviceId()).orElseThrow();
        List<IBaseResource> data = new ArrayList<>(s.recordResources());
        data.addAll(s.draftOrderResources());
        Decision decision = evaluator.decide(
                rules, service, new PatientData(s.patientId(), data, s.evaluationDate()), s.hookOrderIds());
        HookContext context =
                new HookContext("Practitioner/test-surgeon", s.patientId(), null, s.selections(), s.draftOrders());
        return deck.deal(decision, rules, context, "scenario");
    }
}
