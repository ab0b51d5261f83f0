package org.crlm.cds.rules;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.crlm.cds.authoring.BundlePrefetch;
import org.crlm.cds.authoring.RuleTestCase;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.EvidenceFigures;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.ScenarioRecords;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The rule test matrix over HTTP: every case in cql/tests through the real CDS Hooks endpoint
 * with full prefetch, and with no prefetch (the service reads the record from its own FHIR
 * store). Each must give exactly the expected rules, every response must have the CDS Hooks
 * 2.0 shape, and every figure on a card must come from the evidence page. The evaluator alone
 * runs the same cases in {@link RuleScenarioTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RuleScenarioIT extends AppIntegrationTest {

    @Autowired
    DaoRegistry daoRegistry;

    // Over HTTP the rules evaluate at the current time: each case's dates are moved so that its
    // evaluation date is today (the evaluator path sets the evaluation date instead).
    private final List<RuleTestCase> scenarios = RuleTestCase.all().stream()
            .map(s -> s.relativeTo(java.time.LocalDate.now(java.time.ZoneOffset.UTC)))
            .toList();
    private Map<String, Map<String, String>> templates;
    private CdsClient cds;

    @BeforeAll
    void loadRecordsIntoTheStore() {
        cds = new CdsClient(base(), keys());
        templates = cds.prefetchTemplates();
        ScenarioRecords.store(daoRegistry, scenarios);
    }

    @TestFactory
    Stream<DynamicContainer> everyScenario() {
        return scenarios.stream()
                .map(s -> DynamicContainer.dynamicContainer(
                        s.name(),
                        Stream.of(
                                DynamicTest.dynamicTest("endpoint, full prefetch", () -> viaEndpoint(s, true)),
                                DynamicTest.dynamicTest(
                                        "endpoint, no prefetch (local store)", () -> viaEndpoint(s, false)))));
    }

    private void viaEndpoint(RuleTestCase s, boolean prefetch) {
        List<IBaseResource> record = s.recordResources();
        Http.Response response = cds.call(
                s.serviceId(),
                s.request(prefetch ? BundlePrefetch.full(templates.get(s.serviceId()), s.patientId(), record) : null));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        JsonNode body = response.json();
        CdsHooksShape.assertServiceResponse(body);
        assertThat(CdsHooksShape.ruleIds(body)).as(s.name()).isEqualTo(new TreeSet<>(s.expectedRules()));
        for (JsonNode card : body.path("cards")) {
            String rule = card.path("source").path("topic").path("code").asText();
            assertThat(EvidenceFigures.notOnEvidencePage(EvidenceFigures.withoutAddresses(card.path("summary")
                                    .asText() + " "
                            + EvidenceFigures.evidencePart(card.path("detail").asText()))))
                    .as(rule + " quotes only figures from the evidence page")
                    .isEmpty();
            // The record's text is escaped for markdown on the card; the scenario names it as the record has it.
            String shown = card.path("detail").asText().replaceAll("\\\\(\\p{Punct})", "$1");
            for (String part : s.expectedFacts().getOrDefault(rule, List.of())) {
                assertThat(shown).as(rule + " facts").contains(part);
            }
        }
    }
}
