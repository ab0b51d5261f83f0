package org.crlm.cds.smart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The forest plot's hazard ratios are copied, never invented: each estimate of the view's
 * evidence.json is written out in the project's evidence document exactly as "HR x (low–high,
 * p = p)", every figure is one the cards may quote, and each belongs to rules whose row in the
 * evidence document quotes it.
 */
class PlanningEvidenceFiguresTest {

    private static final Path EVIDENCE_JSON = Path.of("src", "main", "resources", "static", "smart", "evidence.json");

    @Test
    void everyHazardRatioOfTheForestPlotIsInTheEvidenceDocument() throws Exception {
        JsonNode evidence = new ObjectMapper().readTree(EVIDENCE_JSON.toFile());
        String document =
                Files.readString(Path.of("src", "docs", "evidence.md")).replaceAll("\\s+", " ");
        Set<String> figures = Files.readAllLines(Path.of("src", "test", "resources", "evidence-figures.txt")).stream()
                .filter(l -> !l.startsWith("#") && !l.isBlank())
                .map(String::trim)
                .collect(Collectors.toSet());
        assertThat(evidence.path("estimates")).isNotEmpty();
        for (JsonNode e : evidence.path("estimates")) {
            String hr = e.path("hr").asText();
            String low = e.path("low").asText();
            String high = e.path("high").asText();
            String p = e.path("p").asText();
            assertThat(document)
                    .as("estimate %s in src/docs/evidence.md", e.path("id").asText())
                    .contains("HR " + hr + " (" + low + "–" + high + ", p = " + p + ")");
            assertThat(figures).as("figures a card may quote").contains(hr, low, high, p);
            assertThat(Double.parseDouble(low)).isLessThan(Double.parseDouble(hr));
            assertThat(Double.parseDouble(high)).isGreaterThan(Double.parseDouble(hr));
            for (JsonNode rule : e.path("rules")) {
                String row = ruleRow(rule.asText());
                assertThat(row)
                        .as("the row of %s in the evidence document quotes HR %s", rule.asText(), hr)
                        .contains("HR " + hr);
            }
        }
    }

    /** The rule's row of the table "The rules" in the evidence document. */
    private static String ruleRow(String ruleId) throws Exception {
        List<String> rows = Files.readAllLines(Path.of("src", "docs", "evidence.md")).stream()
                .filter(l -> l.startsWith("| " + ruleId + " |"))
                .toList();
        assertThat(rows).as("row of %s", ruleId).hasSize(1);
        return rows.get(0);
    }
}
