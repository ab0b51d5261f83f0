package org.crlm.cds.rules;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.junit.jupiter.api.Test;

/**
 * What a CDS committee needs to approve a rule: who wrote and reviewed it, when it was approved
 * and last reviewed, when it is in force, and the studies it cites with their addresses; and a
 * repository that names no file outside itself.
 */
class KnowledgeGovernanceTest {

    @Test
    void everyRulePlanDefinitionCarriesItsGovernance() throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(Path.of("fhir-resources", "rules"))) {
            files = list.filter(f -> f.getFileName().toString().startsWith("PlanDefinition-crlm-rule-"))
                    .sorted()
                    .toList();
        }
        assertThat(files).isNotEmpty();
        for (Path file : files) {
            PlanDefinition plan = FhirContext.forR4Cached()
                    .newJsonParser()
                    .parseResource(PlanDefinition.class, Files.readString(file));
            String name = file.getFileName().toString();
            assertThat(plan.getAuthor()).as(name + " author").isNotEmpty();
            assertThat(plan.getReviewer()).as(name + " reviewer").isNotEmpty();
            assertThat(plan.getApprovalDate()).as(name + " approvalDate").isNotNull();
            assertThat(plan.getLastReviewDate()).as(name + " lastReviewDate").isNotNull();
            assertThat(plan.getEffectivePeriod().getStart())
                    .as(name + " effectivePeriod.start")
                    .isNotNull();
            assertThat(plan.getLastReviewDate()).isAfterOrEqualTo(plan.getApprovalDate());
            Set<String> cited = plan.getActionFirstRep().getDocumentation().stream()
                    .map(RelatedArtifact::getLabel)
                    .collect(Collectors.toSet());
            Set<String> citations = plan.getRelatedArtifact().stream()
                    .filter(a -> a.getType() == RelatedArtifact.RelatedArtifactType.CITATION)
                    .peek(a -> assertThat(a.getUrl())
                            .as(name + " " + a.getLabel() + " address")
                            .startsWith("https://"))
                    .map(RelatedArtifact::getLabel)
                    .collect(Collectors.toSet());
            assertThat(citations)
                    .as(name + " cites every study its card quotes")
                    .isEqualTo(cited);
            assertThat(plan.getRelatedArtifact())
                    .as(name + " points to the evidence document")
                    .anyMatch(a -> a.hasDocument()
                            && Files.exists(Path.of(a.getDocument().getUrl())));
        }
    }

    @Test
    void noRepositoryFileNamesAFileOutsideTheRepository() throws IOException {
        List<String> outside = List.of("shared" + "/", "EVIDENCE" + ".md", "../" + "shared");
        List<Path> roots = List.of(
                Path.of("cql"),
                Path.of("fhir-resources"),
                Path.of("src"),
                Path.of("README.md"),
                Path.of("deploy"),
                Path.of(".ci"));
        for (Path root : roots) {
            if (!Files.exists(root)) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(root)) {
                // node_modules: packages npm installs to rebuild a vendored library (git-ignored, not ours).
                for (Path file : walk.filter(Files::isRegularFile)
                        .filter(f -> !f.toString().contains("node_modules"))
                        .filter(KnowledgeGovernanceTest::isText)
                        .toList()) {
                    String text = Files.readString(file);
                    for (String name : outside) {
                        assertThat(text)
                                .as(file + " names a file outside the repository")
                                .doesNotContain(name);
                    }
                }
            }
        }
    }

    private static boolean isText(Path file) {
        String name = file.getFileName().toString();
        return Stream.of(
                                ".java", ".cql", ".json", ".md", ".yaml", ".yml", ".txt", ".js", ".html", ".css",
                                ".sql", ".sh")
                        .anyMatch(name::endsWith)
                || name.equals("run");
    }
}
