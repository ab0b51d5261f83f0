package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
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
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.springframework.util.unit.DataSize;

/**
 * The whole card set of every scenario in cql/tests, checked against its golden file
 * (src/test/resources/golden/cards/): summaries, details with the patient's facts and the
 * evidence, indicators, sources, override reasons, suggestions and extensions; only the
 * random uuids are left out. A wording change shows here as a diff to review.
 *
 * <p>After an intended change: {@code mvn test -Dtest=ScenarioCardsGoldenTest -Dgolden.update=true},
 * then review {@code git diff src/test/resources/golden}.
 */
class ScenarioCardsGoldenTest {

    static final Path GOLDEN = Path.of("src", "test", "resources", "golden", "cards");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final boolean UPDATE = Boolean.getBoolean("golden.update");

    private final DecisionEvaluator evaluator = new DecisionEvaluator(new RuleEngine());
    private final ServiceCatalog catalog = new ServiceCatalog();
    private final CardDeck deck = new CardDeck(new CardFactory(new CdsHooksProperties(true,
            "http://crlm-cds.org/fhir/CodeSystem/crlm-override-reason", Duration.ofSeconds(5), DataSize.ofMegabytes(20), 20,
            5000, 8)));
    private final CdsJson cdsJson = new CdsJson(FhirContext.forR4Cached());

    @TestFactory
    Stream<DynamicTest> everyScenarioGivesItsGoldenCards() {
        return RuleTestCase.all().stream().map(s -> DynamicTest.dynamicTest(s.name(), () -> {
            JsonNode actual = cards(s);
            Path file = GOLDEN.resolve(s.file().getFileName());
            if (UPDATE) {
                Files.createDirectories(GOLDEN);
                Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(actual) + "\n");
            }
            assertThat(file).as("golden file for " + s.file().getFileName()
                    + " (write it with -Dgolden.update=true and review it)").exists();
            JsonNode expected = JSON.readTree(file.toFile());
            assertThat(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(actual))
                    .as("cards of " + s.name()).isEqualTo(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(expected));
        }));
    }

    private JsonNode cards(RuleTestCase s) throws IOException {
        RuleSet rules = RepositoryRules.get();
        ServiceDefinition service = catalog.service(rules, s.serviceId()).orElseThrow();
        List<IBaseResource> data = new ArrayList<>(s.recordResources());
        data.addAll(s.draftOrderResources());
        Decision decision = evaluator.decide(rules, service, new PatientData(s.patientId(), data, s.evaluationDate()));
        HookContext context = new HookContext("Practitioner/test-surgeon", s.patientId(), null, s.selections(), s.draftOrders());
        CardDeck.Dealt dealt = deck.deal(decision, rules, context, "golden");
        ArrayNode cards = JSON.createArrayNode();
        for (var card : dealt.cards()) {
            cards.add(withoutUuids(JSON.readTree(cdsJson.write(card))));
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("scenario", s.title());
        root.put("service", s.serviceId());
        root.set("cards", cards);
        return root;
    }

    private static JsonNode withoutUuids(JsonNode node) {
        if (node instanceof ObjectNode object) {
            object.remove("uuid");
            object.forEach(ScenarioCardsGoldenTest::withoutUuids);
        } else if (node instanceof ArrayNode array) {
            array.forEach(ScenarioCardsGoldenTest::withoutUuids);
        }
        return node;
    }
}
