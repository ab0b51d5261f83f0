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
import java.util.stream.Stream;
import org.crlm.cds.authoring.RuleTestCase;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

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

    private final ScenarioDecks decks = new ScenarioDecks();
    private final CdsJson cdsJson = new CdsJson(FhirContext.forR4Cached());

    @TestFactory
    Stream<DynamicTest> everyScenarioGivesItsGoldenCards() {
        return RuleTestCase.all().stream()
                .map(s -> DynamicTest.dynamicTest(s.name(), () -> {
                    JsonNode actual = cards(s);
                    Path file = GOLDEN.resolve(s.file().getFileName());
                    if (UPDATE) {
                        Files.createDirectories(GOLDEN);
                        Files.writeString(
                                file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(actual) + "\n");
                    }
                    assertThat(file)
                            .as("golden file for " + s.file().getFileName()
                                    + " (write it with -Dgolden.update=true and review it)")
                            .exists();
                    JsonNode expected = JSON.readTree(file.toFile());
                    assertThat(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(actual))
                            .as("cards of " + s.name())
                            .isEqualTo(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(expected));
                }));
    }

    private JsonNode cards(RuleTestCase s) throws IOException {
        CardDeck.Dealt dealt = decks.deal(s);
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
