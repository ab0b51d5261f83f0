package org.crlm.cds.rules;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.crlm.cds.support.EvidenceFigures;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.junit.jupiter.api.Test;

/**
 * Every card's wording lives in a rule PlanDefinition; every figure in its summary, evidence
 * text and source label must be one of the figures on the evidence page.
 */
class CardEvidenceFiguresTest {

    @Test
    void everyFigureOnEveryCardIsFromTheEvidencePage() throws IOException {
        List<Path> rules;
        try (Stream<Path> files = Files.list(Path.of("fhir-resources", "rules"))) {
            rules = files.filter(f -> f.getFileName().toString().startsWith("PlanDefinition-crlm-rule-")).sorted().toList();
        }
        assertThat(rules).isNotEmpty();
        for (Path file : rules) {
            PlanDefinition plan = FhirContext.forR4Cached().newJsonParser().parseResource(PlanDefinition.class, Files.readString(file));
            PlanDefinition.PlanDefinitionActionComponent action = plan.getActionFirstRep();
            StringBuilder text = new StringBuilder(action.getTitle()).append(' ').append(action.getDescription());
            for (RelatedArtifact doc : action.getDocumentation()) {
                text.append(' ').append(doc.getDisplay());
            }
            assertThat(EvidenceFigures.notOnEvidencePage(text.toString())).as(file.getFileName().toString()).isEmpty();
            if (action.hasDocumentation()) {
                assertThat(EvidenceFigures.numbers(action.getDescription())).as(file + " quotes evidence").isNotEmpty();
            } else {
                // A card without a cited source (GAPS: what could not be assessed) quotes no figures at all.
                assertThat(EvidenceFigures.numbers(text.toString())).as(file + " cites nothing, so quotes no figures").isEmpty();
            }
            assertThat(action.getTitle().length()).as(file + " summary length").isLessThan(140);
        }
    }

    @Test
    void aFigureNotOnThePageIsCaught() {
        assertThat(EvidenceFigures.notOnEvidencePage("HR 3.97 (95% CI 1.65–9.55), 1-year LTPFS 51.0% vs 76.1%")).isEmpty();
        assertThat(EvidenceFigures.notOnEvidencePage("HR 3.79, 52% vs 76.1%")).containsExactly("3.79", "52");
    }
}
