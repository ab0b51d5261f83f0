package org.crlm.cds.authoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.HeadlessChromium;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.TestKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The authoring console in a real headless Chromium (Debian's chromium and chromium-driver,
 * installed by .ci/run): an informatician runs order-sign for a demo patient and sees the
 * cards and the why, then breaks the CQL, sees the error at its line, and fixes it, all under
 * the page's Content-Security-Policy with nothing refused and no script error; and a record
 * whose text carries a script, an onerror image and a javascript: link shows them as inert text.
 */
class ConsoleBrowserIT extends AppIntegrationTest {

    @TempDir
    Path profile;

    private HeadlessChromium chromium;
    private WebDriver browser;
    private WebDriverWait wait;

    @BeforeEach
    void openChromium() {
        chromium = new HeadlessChromium(profile);
        browser = chromium.browser();
        wait = new WebDriverWait(browser, Duration.ofSeconds(30));
    }

    @AfterEach
    void closeChromium() {
        if (chromium != null) {
            chromium.close();
        }
    }

    @Test
    void anInformaticianRunsAHookSeesTheCardsAndFixesABrokenEdit() throws Exception {
        browser.get(base() + "/console/");
        WebElement token = browser.findElement(By.id("token"));
        token.sendKeys(keys().fhirToken("user/*.read", TestKeys.AUTHORING_SCOPE));
        token.sendKeys(org.openqa.selenium.Keys.TAB);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#services [data-rule='R1']")));
        wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#run-patient option[value='crlm-demo-11']")));

        // Run order-sign for a demo patient, with a new draft microwave ablation order.
        new Select(browser.findElement(By.id("run-service"))).selectByValue("crlm-ablation-order-sign");
        new Select(browser.findElement(By.id("run-patient"))).selectByValue("crlm-demo-11");
        WebElement addDraft = browser.findElement(By.id("run-add-draft"));
        if (!addDraft.isSelected()) {
            addDraft.click();
        }
        browser.findElement(By.id("run")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#cards .card")));
        List<WebElement> cards = browser.findElements(By.cssSelector("#cards .card"));
        Set<String> rules = new TreeSet<>();
        cards.forEach(c -> rules.add(c.getAttribute("data-rule")));
        // The console's draft order is known only from its text: the GAPS card says so.
        assertThat(rules).containsExactly("GAPS", "R1", "R2", "R3");
        WebElement r1 = browser.findElement(By.cssSelector("#cards .card[data-rule='R1']"));
        assertThat(r1.getAttribute("class")).contains("indicator-warning");
        assertThat(r1.findElement(By.className("card-summary")).getText()).startsWith("KRAS mutated");
        assertThat(r1.findElement(By.className("card-detail")).getText())
                .contains("This patient:")
                .contains("p = 0.044");
        assertThat(r1.findElement(By.className("card-source")).getText()).contains("Giannone");
        WebElement why = browser.findElement(By.cssSelector("#expressions [data-name='R1 Applies']"));
        assertThat(why.getText()).contains("true");
        screenshot("console-run-order-sign.png", "h-try");

        // Open the rules library, break it, see the error at its line, fix it.
        browser.findElement(By.cssSelector("#libraries [data-library='CRLMAblationRules']"))
                .click();
        wait.until(d -> editorText().contains("define \"R1 Applies\""));
        wait.until(ExpectedConditions.attributeContains(By.id("validation"), "class", "ok"));
        assertThat(inEditor(".cm-content .tok-kw").getText())
                .as("CQL highlighted")
                .isEqualTo("library");
        String original = editorText();
        String broken = original.replace(
                "\"KRAS Status\" = 'mutated' and \"Ablation Planned\"\n\ndefine \"R2",
                "\"KRAS Status\" = 'mutated' and \"Ablation Plannned\"\n\ndefine \"R2");
        assertThat(broken).isNotEqualTo(original);
        int line = (int) broken.substring(0, broken.indexOf("Ablation Plannned"))
                        .chars()
                        .filter(c -> c == '\n')
                        .count()
                + 1;
        setEditor(broken);
        wait.until(ExpectedConditions.attributeContains(By.id("validation"), "class", "has-errors"));
        WebElement error = wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#validation .cql-error[data-line='" + line + "']")));
        assertThat(error.getText()).contains("Line " + line).contains("Ablation Plannned");
        assertThat(browser.findElement(By.id("publish")).isEnabled()).isFalse();
        // The error's button puts the cursor on it; the editor marks the line, its number and the position.
        error.findElement(By.tagName("button")).click();
        wait.until(ExpectedConditions.textMatches(
                By.id("cursor-pos"), java.util.regex.Pattern.compile("^Line " + line + ", column \\d+$")));
        assertThat(inEditor(".cm-issue-line-error").getAttribute("data-line")).isEqualTo(String.valueOf(line));
        assertThat(inEditor(".cm-lineNumbers .ln-error").getText()).isEqualTo(String.valueOf(line));
        assertThat(inEditor(".issue-marker-error").getAttribute("title")).contains("Ablation Plannned");
        assertThat(inEditor(".cm-issue-mark-error").getText()).isNotBlank();
        screenshot("console-editing-error.png", "h-edit");

        // Undo with the keyboard (the editor's history) restores the library; the error goes.
        new Actions(browser)
                .keyDown(Keys.CONTROL)
                .sendKeys("z")
                .keyUp(Keys.CONTROL)
                .perform();
        wait.until(ExpectedConditions.attributeContains(By.id("validation"), "class", "ok"));
        assertThat(editorText()).isEqualTo(original);
        assertThat(browser.findElements(By.cssSelector("#validation .cql-error")))
                .isEmpty();
        assertThat(browser.findElement(By.id("editor"))
                        .getShadowRoot()
                        .findElements(By.cssSelector(".cm-issue-line-error")))
                .isEmpty();
        assertThat(browser.findElement(By.id("publish")).isEnabled()).isTrue();

        assertThat(browserConsoleProblems())
                .as("CSP refusals and script errors in the browser console")
                .isEmpty();
    }

    @Test
    void aRecordWhoseTextCarriesScriptRendersItAsInertText() throws Exception {
        // Demo patient 11's record, with the KRAS amino-acid change (quoted in R1's card) made hostile.
        String hostile = "p.Ala146Thr <script>window.__xss = 'script'</script>"
                + "<img src=x onerror=\"window.__xss = 'img'; alert('img')\">"
                + " [evidence](javascript:window.__xss='link') <a href=\"javascript:alert('a')\">here</a>";
        ObjectNode bundle = (ObjectNode) Http.JSON.readTree(
                Files.readString(Path.of("fhir-resources/demo/demo-11-kras-duplicate-orders-one-lesion.json")));
        int replaced = 0;
        for (JsonNode entry : bundle.get("entry")) {
            for (JsonNode component : entry.path("resource").path("component")) {
                JsonNode value = component.path("valueCodeableConcept");
                if ("p.Ala146Thr".equals(value.path("text").asText())) {
                    ((ObjectNode) value).put("text", hostile);
                    replaced++;
                }
            }
        }
        assertThat(replaced)
                .as("the KRAS amino-acid change in demo 11's record")
                .isEqualTo(1);

        browser.get(base() + "/console/");
        WebElement token = browser.findElement(By.id("token"));
        token.sendKeys(keys().fhirToken("user/*.read", TestKeys.AUTHORING_SCOPE));
        token.sendKeys(org.openqa.selenium.Keys.TAB);
        wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#run-service option[value='crlm-ablation-order-sign']")));
        new Select(browser.findElement(By.id("run-service"))).selectByValue("crlm-ablation-order-sign");
        js(
                "const b = document.getElementById('run-bundle'); b.value = arguments[0];"
                        + " b.dispatchEvent(new Event('input', {bubbles: true}));",
                Http.JSON.writeValueAsString(bundle));
        WebElement addDraft = browser.findElement(By.id("run-add-draft"));
        if (!addDraft.isSelected()) {
            addDraft.click();
        }
        browser.findElement(By.id("run")).click();
        WebElement detail = wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#cards .card[data-rule='R1'] .card-detail")));

        // The hostile text reached the card, and shows as text.
        assertThat(detail.getText())
                .contains("p.Ala146Thr")
                .contains("<script>")
                .contains("onerror=")
                .contains("javascript:");
        // Nothing of it became markup or ran.
        assertThat(browser.findElements(By.cssSelector("#cards script"))).isEmpty();
        assertThat(browser.findElements(By.cssSelector("#cards img"))).isEmpty();
        assertThat(browser.findElements(By.cssSelector("#cards [onerror]"))).isEmpty();
        for (WebElement link : browser.findElements(By.cssSelector("#cards a"))) {
            assertThat(link.getAttribute("href")).as("a link in a card").matches("https?://.+");
        }
        assertThat(js("return typeof window.__xss")).isEqualTo("undefined");
        assertThatThrownBy(() -> browser.switchTo().alert()).isInstanceOf(NoAlertPresentException.class);
        assertThat(browserConsoleProblems())
                .as("CSP refusals and script errors in the browser console")
                .isEmpty();

        // Behind the sanitiser, the policy: an inline script that did reach the page would be refused
        // (and reported where the checks above look).
        js(
                "const s = document.createElement('script'); s.textContent = \"window.__xss = 'inline'\"; document.body.append(s);");
        assertThat(js("return typeof window.__xss")).isEqualTo("undefined");
        wait.until(d -> browserConsoleProblems().stream().anyMatch(m -> m.contains("Content Security Policy")));
    }

    @Test
    void theConsoleAndItsWebjarsAreServedUnderAStrictContentSecurityPolicy() {
        Http.Response page = Http.get(base() + "/console/", null);
        assertThat(page.status()).isEqualTo(200);
        String csp = page.header("Content-Security-Policy");
        assertThat(csp)
                .contains("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'")
                .doesNotContain("unsafe-inline", "unsafe-eval");
        assertThat(page.header("X-Content-Type-Options")).isEqualTo("nosniff");
        for (String webjar : List.of(
                "/webjars/markdown-it/dist/markdown-it.min.js",
                "/webjars/dompurify/dist/purify.min.js",
                "/webjars/codemirror__view/dist/index.js")) {
            Http.Response script = Http.get(base() + webjar, null);
            assertThat(script.status()).as(webjar).isEqualTo(200);
            assertThat(script.header("Content-Type")).as(webjar).contains("javascript");
            assertThat(script.header("X-Content-Type-Options")).as(webjar).isEqualTo("nosniff");
            assertThat(script.header("Content-Security-Policy")).as(webjar).isEqualTo(csp);
        }
    }

    /** SEVERE browser-console entries except the console API's 401s before the token is typed. */
    private List<String> browserConsoleProblems() {
        return chromium.consoleProblems();
    }

    /** An element inside the CodeMirror editor (in the shadow root of #editor). */
    private WebElement inEditor(String css) {
        return wait.until(d -> d.findElement(By.id("editor")).getShadowRoot().findElements(By.cssSelector(css)).stream()
                .findFirst()
                .orElse(null));
    }

    private String editorText() {
        return ConsoleEditor.text(browser);
    }

    /** Replaces the whole text as one edit (as a paste over everything would). */
    private void setEditor(String text) {
        ConsoleEditor.replaceAll(browser, text);
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    private void screenshot(String name, String scrollTo) throws Exception {
        js("document.getElementById(arguments[0]).scrollIntoView()", scrollTo);
        Path dir = Path.of("target", "screenshots");
        Files.createDirectories(dir);
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
