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
 * The R7 suggestion is an order an EHR can place: one draft ServiceRequest per gene, intent
 * order, for this patient, coded with the gene's LOINC test code (a well-formed code with a
 * valid check digit), and only clinician-facing text.
 */
class OrderSuggestionTest {

    private final ScenarioDecks decks = new ScenarioDecks();

    @Test
    void r7ProposesOneCodedPlaceableOrderPerGene() {
        int checked = 0;
        for (RuleTestCase s : RuleTestCase.all()) {
            for (CdsServiceResponseCardJson card : decks.deal(s).cards()) {
                if (!"R7".equals(card.getSource().getTopic().getCode())) {
                    assertThat(card.getSuggestions())
                            .as(s.name() + " " + card.getSummary())
                            .isNullOrEmpty();
                    continue;
                }
                assertThat(card.getSuggestions()).hasSize(1);
                CdsServiceResponseSuggestionJson suggestion =
                        card.getSuggestions().get(0);
                assertThat(suggestion.getLabel()).isEqualTo("Order KRAS, NRAS and BRAF mutation analysis");
                List<String> codes = new ArrayList<>();
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
                assertThat(codes).containsExactly("21702-6", "85510-6", "58415-1");
                checked++;
            }
        }
        assertThat(checked).as("scenarios where R7 fires").isPositive();
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
