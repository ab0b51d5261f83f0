package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCardJson;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.crlm.cds.authoring.RuleTestCase;
import org.crlm.cds.support.RepositoryRules;
import org.junit.jupiter.api.Test;

/** What the surgeon reads on the cards of every scenario: no evidence paragraph twice, no unmeasured status claimed. */
class CardWordingTest {

    private final ScenarioDecks decks = new ScenarioDecks();

    @Test
    void severalCardsInOneAnswerNeverRepeatAnEvidenceParagraph() {
        int referred = 0;
        for (RuleTestCase s : RuleTestCase.all()) {
            Map<String, String> cardByParagraph = new HashMap<>();
            for (CdsServiceResponseCardJson card : decks.deal(s).cards()) {
                String detail = card.getDetail();
                for (String paragraph : evidenceParagraphsOf(card)) {
                    assertThat(detail).contains(paragraph);
                    String earlier = cardByParagraph.putIfAbsent(paragraph, card.getSummary());
                    assertThat(earlier)
                            .as(s.name() + ": paragraph already on \"" + earlier + "\", repeated on \""
                                    + card.getSummary() + "\"")
                            .isNull();
                }
                if (detail.contains(": see the card above, “")) {
                    referred++;
                }
            }
        }
        assertThat(referred)
                .as("some scenario fires two cards sharing a finding (R1+R2, R4+R7)")
                .isPositive();
    }

    @Test
    void kRasMutatedWithTwoAblationsShowsTheAuthorsConclusionOnce() {
        RuleTestCase s = scenario("001-");
        List<CdsServiceResponseCardJson> cards = decks.deal(s).cards();
        CdsServiceResponseCardJson r1 = cards.stream()
                .filter(c -> c.getSource().getTopic().getCode().equals("R1"))
                .findFirst()
                .orElseThrow();
        CdsServiceResponseCardJson r2 = cards.stream()
                .filter(c -> c.getSource().getTopic().getCode().equals("R2"))
                .findFirst()
                .orElseThrow();
        assertThat(r1.getDetail()).contains("The S1 authors conclude that thermal ablation may be less effective");
        assertThat(r2.getDetail())
                .doesNotContain("The S1 authors conclude")
                .contains("The S1 authors' conclusion: see the card above, “" + r1.getSummary() + "”")
                .contains("(p = 0.032)");
    }

    @Test
    void r6WithBrafNotTestedNeverSaysBrafNotMutatedOrWildType() {
        RuleTestCase s = scenario("044-");
        CdsServiceResponseCardJson r6 = decks.deal(s).cards().stream()
                .filter(c -> c.getSource().getTopic().getCode().equals("R6"))
                .findFirst()
                .orElseThrow();
        assertThat(r6.getSummary() + r6.getDetail())
                .doesNotContain("BRAF not mutated")
                .doesNotContain("BRAF wild type")
                .doesNotContain("BRAF wild-type");
        assertThat(r6.getDetail())
                .contains("BRAF status unknown (no readable final result; not assumed wild type)")
                .contains("not a comparison with resection")
                .contains("(p = 0.048)");
    }

    @Test
    void aMicrowaveOrderIsToldWhereTheEvidenceComesFrom() {
        RuleTestCase s = scenario("005-");
        for (CdsServiceResponseCardJson card : decks.deal(s).cards()) {
            assertThat(card.getDetail())
                    .as(card.getSummary())
                    .contains(
                            "**Scope.** The planned ablation is microwave; the "
                                    + "evidence comes from thermal ablation combined with liver resection (S1) and RFA only (S2).");
        }
        for (CdsServiceResponseCardJson card : decks.deal(scenario("001-")).cards()) {
            assertThat(card.getDetail())
                    .as("a percutaneous RFA order (CPT 47382)")
                    .contains("**Scope.** The planned ablation " + "is percutaneous");
        }
        List<CdsServiceResponseCardJson> openRfa = decks.deal(scenario("003-")).cards();
        assertThat(openRfa).isNotEmpty();
        for (CdsServiceResponseCardJson card : openRfa) {
            assertThat(card.getDetail())
                    .as("an open RFA order (SNOMED 708625004)")
                    .doesNotContain("**Scope.**");
        }
    }

    @Test
    void aCardQuotingBothStudiesNamesBothWithTheirAddresses() {
        CdsServiceResponseCardJson r1 = decks.deal(scenario("001-")).cards().get(0);
        assertThat(r1.getSource().getTopic().getCode()).isEqualTo("R1");
        assertThat(r1.getDetail())
                .contains("S1: [Giannone et al. World J Surg 2025;49(6):1573-1582](https://doi.org/10.1002/wjs.12616)")
                .contains(
                        "S2: [Thesis abstract: single-centre RFA series](https://globethesis.com/?t=2404330614967649)");
        assertThat(r1.getLinks())
                .filteredOn(link -> "absolute".equals(link.getType()))
                .extracting("url")
                .containsExactly("https://doi.org/10.1002/wjs.12616", "https://globethesis.com/?t=2404330614967649");
    }

    private static List<String> evidenceParagraphsOf(CdsServiceResponseCardJson card) {
        String topic = card.getSource().getTopic().getCode();
        return RepositoryRules.get().planDefinitions().stream()
                .filter(p -> p.getIdElement().getIdPart().equalsIgnoreCase("crlm-rule-" + topic))
                .flatMap(
                        p -> p
                                .getActionFirstRep()
                                .getExtensionsByUrl(org.crlm.cds.knowledge.EvidenceParagraph.EXTENSION)
                                .stream())
                .map(e -> e.getExtensionByUrl("text").getValue().primitiveValue())
                .filter(card.getDetail()::contains)
                .toList();
    }

    private static RuleTestCase scenario(String prefix) {
        return RuleTestCase.all().stream()
                .filter(s -> s.file().getFileName().toString().startsWith(prefix))
                .findFirst()
                .orElseThrow();
    }
}
