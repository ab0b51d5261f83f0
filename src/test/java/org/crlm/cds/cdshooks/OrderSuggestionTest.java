package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCardJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseSuggestionActionJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseSuggestionJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.crlm.cds.authoring.RuleTestCase;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.junit.jupiter.api.Test;

/**
 * Order suggestions an EHR can place: one draft ServiceRequest per gene, intent order, for this
 * patient, coded with the gene's LOINC test code (a well-formed code with a valid check digit),
 * and only clinician-facing text. R7 suggests ordering only when no KRAS result exists (an
 * unreadable result is a gap on the GAPS card, not a reason to re-test); with KRAS wild type,
 * the GAPS card suggests completing RAS/BRAF testing; a gene that has a result is never ordered again.
 */
class OrderSuggestionTest {

    private static final String KRAS = "21702-6";
    private static final String NRAS = "85510-6";
    private static final String BRAF = "58415-1";

    private final ScenarioDecks decks = new ScenarioDecks();

    @Test
    void onlyR7AndGapsSuggestOrdersAndEveryOrderIsCodedAndPlaceable() {
        int checked = 0;
        for (RuleTestCase s : RuleTestCase.all()) {
            for (CdsServiceResponseCardJson card : decks.deal(s).cards()) {
                String rule = card.getSource().getTopic().getCode();
                if (!"R7".equals(rule) && !"GAPS".equals(rule)) {
                    assertThat(card.getSuggestions())
                            .as(s.name() + " " + card.getSummary())
                            .isNullOrEmpty();
                    continue;
                }
                if (card.getSuggestions() == null || card.getSuggestions().isEmpty()) {
                    continue;
                }
                assertThat(card.getSuggestions()).as(s.name()).hasSize(1);
                assertThat(card.getSelectionBehaviour()).isEqualTo("at-most-one");
                assertClinicianFacing(card.getSuggestions().get(0).getLabel());
                assertThat(orderCodes(card, s)).isNotEmpty();
                checked++;
            }
        }
        assertThat(checked).as("cards with an order suggestion").isPositive();
    }

    @Test
    void noKrasResultAtAllR7ProposesKrasNrasAndBraf() {
        // No genetic result of any gene in the record.
        assertThat(suggestedCodes("040-text-thermal-ablation-liver-bodysite-no-kras", "R7"))
                .containsExactly(KRAS, NRAS, BRAF);
        assertThat(suggestedCodes("040-text-thermal-ablation-liver-bodysite-no-kras", "GAPS"))
                .isEmpty();
    }

    @Test
    void aKrasResultThatCannotBeReadIsAGapNotAReasonToRetest() {
        String scenario = "400-kras-result-unmapped-local-answer-no-order-suggestion";
        assertThat(fired(scenario)).contains("R7", "GAPS");
        assertThat(suggestedCodes(scenario, "R7")).isEmpty();
        assertThat(suggestedCodes(scenario, "GAPS")).isEmpty();
        assertThat(card(scenario, "GAPS").getDetail()).contains("KRAS status unknown: result unreadable");
        assertThat(card(scenario, "R7").getDetail())
                .contains("a result exists but could not be read")
                .doesNotContain("KRAS not tested");
    }

    @Test
    void r7OrdersOnlyTheGenesWithoutAResult() {
        String scenario = "403-kras-not-tested-nras-wild-type-orders-kras-braf";
        assertThat(suggestedCodes(scenario, "R7")).containsExactly(KRAS, BRAF);
    }

    @Test
    void krasWildTypeWithNrasOrBrafUntestedSuggestsCompletingRasBrafTesting() {
        String both = "401-kras-wild-type-nras-braf-not-tested-complete-testing";
        assertThat(fired(both)).containsExactly("GAPS");
        assertThat(suggestedCodes(both, "GAPS")).containsExactly(NRAS, BRAF);
        assertThat(card(both, "GAPS").getSuggestions().get(0).getLabel()).startsWith("Complete RAS/BRAF testing");
        assertThat(card(both, "GAPS").getDetail())
                .contains("NRAS not known with KRAS wild type (not tested): complete RAS/BRAF testing")
                .contains("BRAF not known with KRAS wild type (not tested): complete RAS/BRAF testing");

        assertThat(suggestedCodes("183-nras-absent-braf-not-tested-gap", "GAPS"))
                .containsExactly(BRAF);
    }

    @Test
    void anUnreadableBrafResultWithKrasWildTypeIsListedButNotOrderedAgain() {
        String scenario = "402-kras-nras-wild-type-braf-unreadable-no-suggestion";
        assertThat(fired(scenario)).contains("R6", "GAPS");
        assertThat(suggestedCodes(scenario, "GAPS")).isEmpty();
        assertThat(card(scenario, "GAPS").getDetail())
                .contains("BRAF not known with KRAS wild type (result unreadable)")
                .doesNotContain("complete RAS/BRAF testing");
    }

    private RuleTestCase scenario(String id) {
        return RuleTestCase.all().stream()
                .filter(s -> s.id().equals(id))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no scenario " + id));
    }

    private List<String> fired(String id) {
        return decks.deal(scenario(id)).cards().stream()
                .map(c -> c.getSource().getTopic().getCode())
                .toList();
    }

    private CdsServiceResponseCardJson card(String id, String rule) {
        return decks.deal(scenario(id)).cards().stream()
                .filter(c -> rule.equals(c.getSource().getTopic().getCode()))
                .findFirst()
                .orElseThrow(() -> new AssertionError(id + " has no " + rule + " card"));
    }

    private List<String> suggestedCodes(String id, String rule) {
        RuleTestCase s = scenario(id);
        return decks.deal(s).cards().stream()
                .filter(c -> rule.equals(c.getSource().getTopic().getCode()))
                .findFirst()
                .map(c -> orderCodes(c, s))
                .orElseThrow(() -> new AssertionError(id + " has no " + rule + " card"));
    }

    /** The LOINC codes of the card's suggested orders, checking each order is placeable. */
    private static List<String> orderCodes(CdsServiceResponseCardJson card, RuleTestCase s) {
        List<String> codes = new ArrayList<>();
        if (card.getSuggestions() == null) {
            return codes;
        }
        for (CdsServiceResponseSuggestionJson suggestion : card.getSuggestions()) {
            for (CdsServiceResponseSuggestionActionJson action : suggestion.getActions()) {
                assertThat(action.getType()).isEqualTo("create");
                assertClinicianFacing(action.getDescription());
                ServiceRequest order = (ServiceRequest) action.getResource();
                assertThat(order.getStatus()).isEqualTo(ServiceRequest.ServiceRequestStatus.DRAFT);
                assertThat(order.getIntent()).isEqualTo(ServiceRequest.ServiceRequestIntent.ORDER);
                assertThat(order.getSubject().getReference()).isEqualTo("Patient/" + s.patientId());
                assertThat(order.getRequester().getReference()).isEqualTo("Practitioner/test-surgeon");
                assertThat(order.getCode().getCoding()).hasSize(1);
                Coding coding = order.getCode().getCodingFirstRep();
                assertThat(coding.getSystem()).isEqualTo("http://loinc.org");
                assertThat(isLoincCode(coding.getCode()))
                        .as(coding.getCode() + " is a well-formed LOINC code")
                        .isTrue();
                assertClinicianFacing(order.getCode().getText());
                codes.add(coding.getCode());
            }
        }
        return codes;
    }

    @Test
    void theLoincCheckDigitCatchesAMistypedCode() {
        assertThat(isLoincCode("21702-6")).isTrue();
        assertThat(isLoincCode("21702-5")).isFalse();
        assertThat(isLoincCode("85510-6")).isTrue();
        assertThat(isLoincCode("58415-1")).isTrue();
        assertThat(isLoincCode("58415-7")).isFalse();
    }

    private static void assertClinicianFacing(String text) {
        assertThat(text).isNotBlank();
        String lower = text.toLowerCase(Locale.ROOT);
        for (String note : List.of("site", "replace", "implement", "code.text", "orderable", "todo")) {
            assertThat(lower).as("\"" + text + "\" is clinician-facing").doesNotContain(note);
        }
    }

    /** LOINC's mod-10 check digit: double every other digit from the right, sum the digits. */
    static boolean isLoincCode(String code) {
        if (code == null || !code.matches("\\d{1,7}-\\d")) {
            return false;
        }
        String body = code.substring(0, code.indexOf('-'));
        int sum = 0;
        for (int i = 0; i < body.length(); i++) {
            int digit = body.charAt(body.length() - 1 - i) - '0';
            if (i % 2 == 0) {
                digit *= 2;
                if (digit > 9) {
                    digit -= 9;
                }
            }
            sum += digit;
        }
        int check = (10 - sum % 10) % 10;
        return check == code.charAt(code.length() - 1) - '0';
    }
}
