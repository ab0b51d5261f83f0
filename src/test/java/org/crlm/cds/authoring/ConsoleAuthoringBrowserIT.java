package org.crlm.cds.authoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.crlm.cds.authoring.ConsoleApi.set;
import static org.crlm.cds.authoring.ConsoleApi.threshold;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.KnowledgeRepository;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.TrustedLoad;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSetBuilder;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.HeadlessChromium;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.TestKeys;
import org.hl7.fhir.r4.model.Library;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The console's knowledge workflow in a real headless Chromium, as an informatician does it:
 * edit a threshold, preview which scenarios and demo patients change their cards (before →
 * after), publish with the scenarios' new expectations, read the library's history with author
 * and time, diff the two versions, and roll back to the earlier content under a new version
 * (previewed the same way); and save a run of a demo patient as a scenario that the publish
 * gate then runs.
 */
class ConsoleAuthoringBrowserIT extends AppIntegrationTest {

    private static final FhirContext FHIR = FhirContext.forR4Cached();
    private static final String RULES = "CRLMAblationRules";
    private static final String SAVED = "saved-demo-10-kras-two-ablations";

    @TempDir
    Path profile;

    @Autowired
    DaoRegistry daoRegistry;

    @Autowired
    RuleLibraryCache ruleCache;

    @Autowired
    KnowledgeRepository repository;

    @Autowired
    ScenarioStore scenarios;

    @Autowired
    DecisionEvaluator evaluator;

    private HeadlessChromium chromium;
    private WebDriver browser;
    private WebDriverWait wait;
    private CdsClient cds;
    private String originalJson;

    @BeforeEach
    void open() {
        cds = new CdsClient(base(), keys());
        originalJson = Http.get(base() + "/fhir/Library/" + RULES, author()).body();
        chromium = new HeadlessChromium(profile);
        browser = chromium.browser();
        wait = chromium.await();
    }

    @AfterEach
    void restore() {
        if (chromium != null) {
            chromium.close();
        }
        if (scenarios.contains(SAVED)) {
            scenarios.remove(SAVED);
        }
        Library original = FHIR.newJsonParser().parseResource(Library.class, originalJson);
        original.setMeta(null);
        original.setId("Library/" + RULES);
        daoRegistry.getResourceDao(Library.class).update(original, TrustedLoad.request());
        ruleCache.rebuild(repository.load());
        assertThat(advice("crlm-demo-10")).containsExactly("R1", "R2");
    }

    @Test
    void anInformaticianPreviewsAThresholdChangePublishesItReadsTheHistoryAndRollsBack() {
        signIn();
        browser.findElement(By.cssSelector("#libraries [data-library='" + RULES + "']"))
                .click();
        wait.until(d -> editorText().contains("define \"R1 Applies\""));
        wait.until(ExpectedConditions.attributeContains(By.id("validation"), "class", "ok"));
        String original = editorText();

        // R2 from three planned ablations instead of two, as version 1.7.1.
        setEditor(threshold(original, "1.7.1", "3"));
        wait.until(ExpectedConditions.attributeContains(By.id("validation"), "class", "ok"));
        wait.until(ExpectedConditions.elementToBeClickable(By.id("preview-impact")))
                .click();

        // The preview: the gate would refuse as it stands; the scenarios and demo patients whose cards change.
        WebElement impact =
                wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#impact .impact-summary")));
        assertThat(impact.getText()).contains("The gate would refuse this as it stands");
        Map<String, String[]> changed = rows("#impact .impact-scenarios tbody tr");
        assertThat(changed).isNotEmpty();
        changed.forEach((scenario, beforeAfter) -> {
            assertThat(beforeAfter[0]).as(scenario).contains("R2");
            assertThat(beforeAfter[1]).as(scenario).doesNotContain("R2");
        });
        // Exactly the scenarios the API's preview names (the same gate).
        assertThat(changed.keySet()).isEqualTo(previewedScenarios(threshold(original, "1.7.1", "3")));
        WebElement demo10 =
                browser.findElement(By.cssSelector("#impact .impact-patients tr[data-patient='crlm-demo-10']"));
        assertThat(withoutGaps(demo10.findElement(By.className("before")).getText()))
                .isEqualTo("R1, R2");
        assertThat(withoutGaps(demo10.findElement(By.className("after")).getText()))
                .isEqualTo("R1");
        assertThat(advice("crlm-demo-10")).as("nothing published yet").containsExactly("R1", "R2");
        screenshot("console-impact-preview.png", "impact");

        // Publish with the scenarios' new expectations, ticked one by one after review.
        for (WebElement box : browser.findElements(By.cssSelector("#impact input[data-accept]"))) {
            assertThat(box.isSelected()).isFalse();
            box.click();
        }
        browser.findElement(By.cssSelector("#impact .impact-publish")).click();
        WebElement published = wait.until(
                ExpectedConditions.presenceOfElementLocated(By.cssSelector("#impact .impact-result .published")));
        assertThat(published.getText())
                .contains("Published Library/" + RULES + " version 1.7.1")
                .contains("(console)");
        assertThat(advice("crlm-demo-10")).containsExactly("R1");

        // The history: the new version on top, with who published it and when.
        browser.findElement(By.cssSelector("#knowledge tr[data-resource='Library/" + RULES + "'] .history-button"))
                .click();
        wait.until(
                d -> d.findElements(By.cssSelector("#history-panel[aria-busy]")).isEmpty()
                        && d.findElements(By.cssSelector("#history tr")).size() >= 2
                        && "1.7.1"
                                .equals(d.findElement(By.cssSelector("#history tr .version"))
                                        .getText()));
        List<WebElement> versions = browser.findElements(By.cssSelector("#history tr"));
        WebElement newest = versions.get(0);
        WebElement previous = versions.get(1);
        assertThat(browser.findElement(By.id("history-resource")).getText()).isEqualTo("Library/" + RULES);
        assertThat(newest.findElement(By.className("published-by")).getText()).contains("(console)");
        assertThat(newest.findElement(By.className("time")).getText()).matches("\\d{4}-\\d{2}-\\d{2}T.+");
        assertThat(previous.findElement(By.className("version")).getText()).isNotEqualTo("1.7.1");
        String previousId = previous.getAttribute("data-version-id");

        // The diff between the two (the earlier selected as "from", the newest as "to" by default).
        browser.findElement(By.id("show-diff")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#diff .diff-add")));
        assertThat(texts("#diff .diff-del"))
                .contains("-parameter \"Multiple Ablation Count\" Integer default 2")
                .contains("-library CRLMAblationRules version '"
                        + previous.findElement(By.className("version")).getText() + "'");
        assertThat(texts("#diff .diff-add"))
                .contains("+parameter \"Multiple Ablation Count\" Integer default 3")
                .contains("+library CRLMAblationRules version '1.7.1'");

        screenshot("console-history-diff.png", "h-versions");

        // Roll back to the earlier content as version 1.7.2: previewed first, the same scenarios change back.
        WebElement rollbackVersion = browser.findElement(By.id("rollback-version"));
        rollbackVersion.sendKeys("1.7.2");
        previous.findElement(By.cssSelector("button[data-rollback]")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#rollback .impact-summary")));
        Map<String, String[]> changedBack = rows("#rollback .impact-scenarios tbody tr");
        assertThat(changedBack.keySet()).isEqualTo(changed.keySet());
        changedBack.forEach((scenario, beforeAfter) -> {
            assertThat(beforeAfter[0]).as(scenario).isEqualTo(changed.get(scenario)[1]);
            assertThat(beforeAfter[1]).as(scenario).isEqualTo(changed.get(scenario)[0]);
        });
        for (WebElement box : browser.findElements(By.cssSelector("#rollback input[data-accept]"))) {
            box.click();
        }
        WebElement rollback = browser.findElement(By.cssSelector("#rollback .impact-publish"));
        assertThat(rollback.getText())
                .contains("Roll back to _history/" + previousId)
                .contains("as version 1.7.2");
        rollback.click();
        WebElement rolledBack = wait.until(
                ExpectedConditions.presenceOfElementLocated(By.cssSelector("#rollback .impact-result .published")));
        assertThat(rolledBack.getText()).contains("Published Library/" + RULES + " version 1.7.2");
        wait.until(
                d -> d.findElements(By.cssSelector("#history-panel[aria-busy]")).isEmpty()
                        && "1.7.2"
                                .equals(d.findElement(By.cssSelector("#history tr .version"))
                                        .getText()));
        assertThat(advice("crlm-demo-10")).containsExactly("R1", "R2");
        Library stored = FHIR.newJsonParser()
                .parseResource(
                        Library.class,
                        Http.get(base() + "/fhir/Library/" + RULES, author()).body());
        assertThat(RuleSetBuilder.cqlText(stored).orElseThrow()).isEqualTo(threshold(original, "1.7.2", "2"));

        assertThat(chromium.consoleProblems())
                .as("script errors and CSP refusals")
                .isEmpty();
    }

    @Test
    void aRunSavedAsAScenarioJoinsTheScenarioStoreAndThePublishGateRunsIt() throws Exception {
        signIn();
        new Select(browser.findElement(By.id("run-service"))).selectByValue("crlm-ablation-patient-view");
        new Select(browser.findElement(By.id("run-patient"))).selectByValue("crlm-demo-10");
        browser.findElement(By.id("scenario-id")).sendKeys(SAVED);
        browser.findElement(By.id("scenario-title"))
                .sendKeys("KRAS mutated, two lesions planned for ablation (saved from the console)");
        browser.findElement(By.id("save-scenario")).click();
        WebElement saved =
                wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#save-scenario-result .saved")));
        assertThat(saved.getText()).contains("Saved scenario " + SAVED + " (" + SAVED + ".yaml)");
        assertThat(withoutGaps(saved.findElement(By.tagName("strong")).getText()))
                .isEqualTo("R1, R2");

        // The file is in the server's scenario store, in the short YAML form, and passes as written.
        Path file = CQL_DIR.resolve("tests").resolve(SAVED + ".yaml");
        assertThat(file).exists();
        String yaml = Files.readString(file);
        assertThat(yaml)
                .contains("hook: patient-view")
                .contains("patient: crlm-demo-10")
                .contains("evaluationDate:")
                .contains("expectedRules:")
                .doesNotContain("\"meta\"")
                .doesNotContain("lastUpdated");
        RuleTestCase scenario = RuleTestCase.load(file);
        RuleTestRunner.Outcome outcome = new RuleTestRunner(evaluator, new ServiceCatalog())
                .run(ruleCache.current().orElseThrow(), scenario);
        assertThat(outcome.passed())
                .as(outcome.fired() + " " + outcome.failures())
                .isTrue();

        // The publish gate runs it: a change that alters its cards lists it, before → after.
        String cql = RuleSetBuilder.cqlText(FHIR.newJsonParser().parseResource(Library.class, originalJson))
                .orElseThrow();
        JsonNode impact = post("/console/api/impact", Map.of("cql", threshold(cql, "1.7.3", "3")));
        JsonNode change = null;
        for (JsonNode s : impact.path("scenarios")) {
            if (s.path("scenario").asText().equals(SAVED)) {
                change = s;
            }
        }
        assertThat(change).as("the saved scenario among the changed ones").isNotNull();
        assertThat(withoutGaps(String.join(", ", set(change.path("before"))))).isEqualTo("R1, R2");
        assertThat(withoutGaps(String.join(", ", set(change.path("after"))))).isEqualTo("R1");

        // A second scenario under the same id is refused (a scenario is never silently replaced).
        browser.findElement(By.id("save-scenario")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(
                By.id("save-scenario-result"), "already in the scenario store"));
    }

    // ---- helpers ----

    /** For the README and the lead's review: target/screenshots/<name>. */
    private void screenshot(String name, String scrollTo) {
        chromium.js("document.getElementById(arguments[0]).scrollIntoView()", scrollTo);
        try {
            Path dir = Files.createDirectories(Path.of("target", "screenshots"));
            Path shot = ((org.openqa.selenium.TakesScreenshot) browser)
                    .getScreenshotAs(org.openqa.selenium.OutputType.FILE)
                    .toPath();
            Files.copy(shot, dir.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void signIn() {
        browser.get(base() + "/console/");
        WebElement token = browser.findElement(By.id("token"));
        token.sendKeys(author());
        token.sendKeys(Keys.TAB);
        wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#libraries [data-library='" + RULES + "']")));
        wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#run-patient option[value='crlm-demo-10']")));
        wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#knowledge tr[data-resource='Library/" + RULES + "']")));
    }

    /** Scenario id → {before, after} as the table shows them. */
    private Map<String, String[]> rows(String css) {
        Map<String, String[]> rows = new TreeMap<>();
        for (WebElement row : browser.findElements(By.cssSelector(css))) {
            rows.put(row.getAttribute("data-scenario"), new String[] {
                row.findElement(By.className("before")).getText(),
                row.findElement(By.className("after")).getText()
            });
        }
        return rows;
    }

    private List<String> texts(String css) {
        return browser.findElements(By.cssSelector(css)).stream()
                .map(WebElement::getText)
                .toList();
    }

    private Set<String> previewedScenarios(String cql) {
        Set<String> ids = new TreeSet<>();
        post("/console/api/impact", Map.of("cql", cql))
                .path("scenarios")
                .forEach(s -> ids.add(s.path("scenario").asText()));
        return ids;
    }

    /** The advice cards (GAPS, what could not be assessed, does not depend on the threshold). */
    private static String withoutGaps(String rules) {
        return rules.replace("GAPS, ", "");
    }

    private Set<String> advice(String patient) {
        Http.Response response = cds.patientView(patient);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        Set<String> rules = new TreeSet<>(CdsHooksShape.ruleIds(response.json()));
        rules.remove("GAPS");
        return rules;
    }

    private JsonNode post(String path, Object body) {
        return ConsoleApi.post(base() + path, body, author());
    }

    private String author() {
        return keys().fhirToken("user/*.read", TestKeys.AUTHORING_SCOPE);
    }

    private String editorText() {
        return ConsoleEditor.text(browser);
    }

    private void setEditor(String text) {
        ConsoleEditor.replaceAll(browser, text);
    }
}
