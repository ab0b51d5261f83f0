package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCardJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCodingJson;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.crlm.cds.authoring.RuleTestCase;
import org.crlm.cds.support.RepositoryRules;
import org.hl7.fhir.r4.model.CodeSystem;
import org.junit.jupiter.api.Test;

/**
 * Each card offers the override reasons its rule names, from the override-reason CodeSystem:
 * the test-result reason on R7, never "Resection not feasible" on a card that is not about
 * choosing ablation over resection (R6, R7, R8), and only "data incorrect" on pure information.
 */
class OverrideReasonsTest {

    private static final String SYSTEM = "http://crlm-cds.org/fhir/CodeSystem/crlm-override-reason";

    private final ScenarioDecks decks = new ScenarioDecks();

    @Test
    void everyCardOffersTheReasonsThatMakeSenseForItsRule() {
        CodeSystem reasons = RepositoryRules.get().codeSystem(SYSTEM).orElseThrow();
        Map<String, String> displays = reasons.getConcept().stream()
                .collect(Collectors.toMap(
                        CodeSystem.ConceptDefinitionComponent::getCode,
                        CodeSystem.ConceptDefinitionComponent::getDisplay));
        Map<String, Set<String>> offeredByRule = new HashMap<>();
        for (RuleTestCase s : RuleTestCase.all()) {
            for (CdsServiceResponseCardJson card : decks.deal(s).cards()) {
                String rule = card.getSource().getTopic().getCode();
                List<CdsServiceResponseCodingJson> offered =
                        card.getOverrideReasons() == null ? List.of() : card.getOverrideReasons();
                for (CdsServiceResponseCodingJson reason : offered) {
                    assertThat(reason.getSystem()).isEqualTo(SYSTEM);
                    assertThat(displays)
                            .as(rule + " offers a code of the CodeSystem")
                            .containsKey(reason.getCode());
                    assertThat(reason.getDisplay()).isEqualTo(displays.get(reason.getCode()));
                }
                Set<String> codes = offered.stream()
                        .map(CdsServiceResponseCodingJson::getCode)
                        .collect(Collectors.toSet());
                Set<String> before = offeredByRule.putIfAbsent(rule, codes);
                assertThat(before == null || before.equals(codes))
                        .as(rule + " offers the same reasons on every card")
                        .isTrue();
            }
        }
        assertThat(offeredByRule.get("R7")).contains("test-done-elsewhere").doesNotContain("resection-not-feasible");
        assertThat(offeredByRule.get("R8")).containsExactly("data-outdated");
        assertThat(offeredByRule.get("R6")).containsExactly("data-outdated");
        for (String warning : List.of("R1", "R2", "R3", "R4", "R5")) {
            assertThat(offeredByRule.get(warning))
                    .as(warning)
                    .contains("resection-not-feasible", "mdt-decision")
                    .doesNotContain("test-done-elsewhere");
        }
    }
}
