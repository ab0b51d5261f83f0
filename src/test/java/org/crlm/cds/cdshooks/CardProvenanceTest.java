package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCardJson;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.crlm.cds.authoring.RuleTestCase;
import org.crlm.cds.knowledge.ResourceRef;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.junit.jupiter.api.Test;

/**
 * A surgeon can check every fact on a card: a result carries its test or method, status and
 * date; a size its modality and date; the assumptions the card relies on are stated; and the
 * card lists the FHIR resources behind the decision, each one in the patient's record.
 */
class CardProvenanceTest {

    private final ScenarioDecks decks = new ScenarioDecks();

    @Test
    void aGeneResultIsQuotedWithItsTestStatusAndDate() {
        CdsServiceResponseCardJson r1 = card("001-", "R1");
        assertThat(r1.getDetail())
                .contains("**This patient:** KRAS p.Gly12Asp (mutated), Genetic variant assessment, final 2024-05-02;");
        assertThat(resources(r1))
                .extracting(ResourceRef::id)
                .containsExactly("s001-obs-kras", "s001-ts-1", "s001-ts-2", "s001-sr1", "s001-sr2");
        CdsServiceResponseCardJson r8 = card("065-", "R8");
        assertThat(r8.getDetail())
                .contains("KRAS mutated, KRAS gene mutations found, final 2023-02-15")
                // The record's display, escaped for markdown: its brackets are text, not a link.
                .contains("N2 primary (pN2a, Regional lymph nodes.pathology \\[Class\\] Cancer, final 2023-02-01)");
    }

    @Test
    void aSizeIsQuotedWithModalityAndDateAndTheNoLesionFallbackIsStated() {
        CdsServiceResponseCardJson r3 = card("029-", "R3");
        assertThat(r3.getDetail())
                .contains("planned lesion sizes 33 mm (modality not recorded, 2025-02-10), 22 mm (modality "
                        + "not recorded, 2025-02-10).")
                .contains("Assumption: an ablation order names no lesion, so every measured liver "
                        + "lesion of the patient was considered (2 liver lesions).");
        CdsServiceResponseCardJson named = card("018-", "R3");
        assertThat(named.getDetail()).doesNotContain("Assumption:");
    }

    @Test
    void brafNotTestedIsStatedNotAssumed() {
        assertThat(card("044-", "R6").getDetail())
                .contains(
                        "KRAS wild type (Genetic variant assessment, final 2024-05-02), NRAS wild type (Genetic variant "
                                + "assessment, final 2024-05-02), BRAF status unknown (no readable final result; not assumed wild type)");
    }

    @Test
    void everyCardListsTheResourcesBehindItAndEachIsInTheRecord() {
        int cards = 0;
        for (RuleTestCase s : RuleTestCase.all()) {
            Set<String> inRecord = new HashSet<>();
            for (IBaseResource r : s.recordResources()) {
                inRecord.add(r.fhirType() + "/" + r.getIdElement().getIdPart());
                // A result that exists only inside a report (contained) is read, and listed, too.
                if (r instanceof org.hl7.fhir.r4.model.DomainResource domain) {
                    for (org.hl7.fhir.r4.model.Resource contained : domain.getContained()) {
                        String id = contained.getIdElement().getIdPart();
                        inRecord.add(contained.fhirType() + "/" + id);
                        inRecord.add(contained.fhirType() + "/" + (id.startsWith("#") ? id.substring(1) : "#" + id));
                    }
                }
            }
            for (IBaseResource r : s.draftOrderResources()) {
                inRecord.add(r.fhirType() + "/" + r.getIdElement().getIdPart());
            }
            for (CdsServiceResponseCardJson card : decks.deal(s).cards()) {
                List<ResourceRef> resources = resources(card);
                assertThat(resources).as(s.name() + " " + card.getSummary()).isNotEmpty();
                for (ResourceRef ref : resources) {
                    assertThat(inRecord).as(s.name()).contains(ref.type() + "/" + ref.id());
                }
                // Every dated fact: a result or a size names its date, or says why it has none. The GAPS
                // card lists what could not be read (an unreadable unit, a text-only order), not results.
                if (!"GAPS".equals(card.getSource().getTopic().getCode())) {
                    String facts = card.getDetail().split("\n\n")[0];
                    assertThat(facts)
                            .as(s.name() + " " + card.getSummary())
                            .containsPattern(
                                    "\\d{4}-\\d{2}-\\d{2}|date not recorded|no readable final result|no measured planned lesion");
                }
                cards++;
            }
        }
        assertThat(cards).isPositive();
    }

    private static List<ResourceRef> resources(CdsServiceResponseCardJson card) {
        return ((RuleCardExtension) card.getExtension()).resources();
    }

    private CdsServiceResponseCardJson card(String scenario, String rule) {
        RuleTestCase s = RuleTestCase.all().stream()
                .filter(c -> c.file().getFileName().toString().startsWith(scenario))
                .findFirst()
                .orElseThrow();
        return decks.deal(s).cards().stream()
                .filter(c -> rule.equals(c.getSource().getTopic().getCode()))
                .findFirst()
                .orElseThrow();
    }
}
