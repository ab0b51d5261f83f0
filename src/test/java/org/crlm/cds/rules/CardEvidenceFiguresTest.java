package org.crlm.cds.rules;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.crlm.cds.knowledge.EvidenceParagraph;
import org.crlm.cds.support.EvidenceFigures;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.junit.jupiter.api.Test;

/**
 * Every card's wording lives in a rule PlanDefinition. Every figure in its summary, evidence
 * paragraphs, description and source label is one of the figures on the evidence page, each
 * result sits in a sentence naming its endpoint and in a paragraph of its study, and the
 * wording follows the evidence page (association language, level of evidence, both studies
 * cited with their addresses).
 */
class CardEvidenceFiguresTest {

    private static final String S2_ADDRESS = "https://globethesis.com/?t=2404330614967649";
    private static final List<String> OVER_CLAIMS = List.of(
            "changed the outcome",
            "changes the outcome",
            "effect was stronger",
            "stronger",
            "predicted",
            "favourable profile",
            "higher risk in kras-mutated (p",
            "than in wild-type tumours (p");

    record Rule(Path file, PlanDefinition.PlanDefinitionActionComponent action, List<EvidenceParagraph> paragraphs) {}

    static List<Rule> rules() throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(Path.of("fhir-resources", "rules"))) {
            files = list.filter(f -> f.getFileName().toString().startsWith("PlanDefinition-crlm-rule-"))
                    .sorted()
                    .toList();
        }
        assertThat(files).isNotEmpty();
        return files.stream()
                .map(file -> {
                    try {
                        PlanDefinition plan = FhirContext.forR4Cached()
                                .newJsonParser()
                                .parseResource(PlanDefinition.class, Files.readString(file));
                        PlanDefinition.PlanDefinitionActionComponent action = plan.getActionFirstRep();
                        List<EvidenceParagraph> paragraphs =
                                action.getExtensionsByUrl(EvidenceParagraph.EXTENSION).stream()
                                        .map(e -> new EvidenceParagraph(
                                                part(e, "key"),
                                                part(e, "source"),
                                                part(e, "endpoint"),
                                                part(e, "title"),
                                                part(e, "text")))
                                        .toList();
                        return new Rule(file, action, paragraphs);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .toList();
    }

    private static String part(Extension ext, String url) {
        Extension part = ext.getExtensionByUrl(url);
        return part == null ? null : part.getValue().primitiveValue();
    }

    @Test
    void everyFigureOnEveryCardIsFromTheEvidencePage() throws IOException {
        for (Rule rule : rules()) {
            StringBuilder text = new StringBuilder(rule.action().getTitle())
                    .append(' ')
                    .append(rule.action().getDescription());
            rule.paragraphs()
                    .forEach(p -> text.append(' ').append(p.title()).append(' ').append(p.text()));
            for (RelatedArtifact doc : rule.action().getDocumentation()) {
                text.append(' ').append(doc.getDisplay()).append(' ').append(doc.getCitation());
            }
            assertThat(EvidenceFigures.notOnEvidencePage(EvidenceFigures.withoutAddresses(text.toString())))
                    .as(rule.file().getFileName().toString())
                    .isEmpty();
            if (rule.action().hasDocumentation()) {
                assertThat(rule.paragraphs())
                        .as(rule.file() + " quotes evidence")
                        .isNotEmpty();
            } else {
                // A card without a cited source (GAPS: what could not be assessed) quotes no figures at all.
                assertThat(EvidenceFigures.numbers(text.toString()))
                        .as(rule.file() + " cites nothing, so quotes no figures")
                        .isEmpty();
            }
            assertThat(rule.action().getTitle().length())
                    .as(rule.file() + " summary length")
                    .isLessThan(140);
        }
    }

    @Test
    void everyResultIsQuotedWithItsEndpointAndStudy() throws IOException {
        int results = 0;
        for (Rule rule : rules()) {
            Set<String> cited = rule.action().getDocumentation().stream()
                    .map(RelatedArtifact::getLabel)
                    .collect(Collectors.toSet());
            for (EvidenceParagraph p : rule.paragraphs()) {
                assertThat(EvidenceFigures.mispaired(p.text(), p.source()))
                        .as(rule.file() + " " + p.key())
                        .isEmpty();
                assertThat(p.text()).as(p.key() + " names its study").contains(p.source());
                assertThat(cited)
                        .as(rule.file() + " cites the study of " + p.key())
                        .contains(p.source());
                results += EvidenceFigures.numbers(p.text()).size();
            }
            // The summary and the description quote no result: figures live in the paragraphs, next to their endpoint.
            assertThat(EvidenceFigures.mispaired(
                            rule.action().getTitle() + " " + rule.action().getDescription(), "none"))
                    .as(rule.file() + " summary and description")
                    .isEmpty();
        }
        assertThat(results).isPositive();
    }

    @Test
    void aResultWithTheWrongEndpointOrStudyIsCaught() {
        assertThat(EvidenceFigures.mispaired(
                        "After RFA in S2, mutant KRAS was associated with worse local tumour "
                                + "progression-free survival (HR 3.97, 95% CI 1.65–9.55, p = 0.002).",
                        "S2"))
                .isEmpty();
        assertThat(EvidenceFigures.mispaired(
                        "In S1, mutant KRAS was associated with worse local tumour "
                                + "progression-free survival (HR 3.97).",
                        "S1"))
                .hasSize(1);
        assertThat(EvidenceFigures.mispaired(
                        "In S2, mutant KRAS was associated with worse disease-free survival (HR 3.97).", "S2"))
                .hasSize(1);
        assertThat(EvidenceFigures.mispaired(
                        "In S2, mutant KRAS was associated with more local tumour progression " + "(HR 3.97).", "S2"))
                .hasSize(1);
        assertThat(EvidenceFigures.mispaired(
                        "In S1, ablation was associated with worse disease-free survival (p = 0.013).", "S1"))
                .hasSize(1);
    }

    @Test
    void aFigureNotOnThePageIsCaught() {
        assertThat(EvidenceFigures.notOnEvidencePage("HR 3.97 (95% CI 1.65–9.55), 1-year LTPFS 51.0% vs 76.1%"))
                .isEmpty();
        assertThat(EvidenceFigures.notOnEvidencePage("HR 3.79, 52% vs 76.1%")).containsExactly("3.79", "52");
    }

    @Test
    void wordingIsAssociationWithLevelOfEvidenceAndBothStudiesCited() throws IOException {
        Map<String, String> textByKey = new HashMap<>();
        for (Rule rule : rules()) {
            String all = (rule.action().getTitle() + " " + rule.action().getDescription() + " "
                            + rule.paragraphs().stream()
                                    .map(EvidenceParagraph::text)
                                    .collect(Collectors.joining(" ")))
                    .toLowerCase(Locale.ROOT);
            for (String claim : OVER_CLAIMS) {
                assertThat(all)
                        .as(rule.file() + " must not say \"" + claim + "\"")
                        .doesNotContain(claim);
            }
            if (rule.action().hasDocumentation()) {
                // Every card that quotes evidence states its level (GAPS quotes none: it lists what could not be read).
                assertThat(rule.action().getDescription())
                        .as(rule.file() + " states the level of evidence")
                        .contains("**Level of evidence.**")
                        .containsIgnoringCase("retrospective");
            }
            for (RelatedArtifact doc : rule.action().getDocumentation()) {
                assertThat(doc.getUrl())
                        .as(rule.file() + " " + doc.getLabel() + " has its address")
                        .isNotBlank();
                if ("S2".equals(doc.getLabel())) {
                    assertThat(doc.getUrl()).isEqualTo(S2_ADDRESS);
                    assertThat(doc.getDisplay() + doc.getCitation()).containsIgnoringCase("thesis abstract");
                    assertThat(rule.action().getDescription())
                            .contains("thesis abstract")
                            .contains("RFA only")
                            .contains("about 1 year of follow-up");
                }
                if ("S1".equals(doc.getLabel())) {
                    assertThat(rule.action().getDescription()).contains("two").contains("liver resection");
                }
            }
            for (EvidenceParagraph p : rule.paragraphs()) {
                String before = textByKey.putIfAbsent(p.key(), p.text());
                assertThat(before == null || before.equals(p.text()))
                        .as("paragraph " + p.key() + " has one text")
                        .isTrue();
            }
        }
    }
}
