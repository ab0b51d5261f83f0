package org.crlm.cds.authoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.TestKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The authoring console in a real headless Chromium (Debian's chromium and chromium-driver,
 * installed by .ci/run): an informatician runs order-sign for a demo patient and sees the
 * cards and the why, then breaks the CQL, sees the error at its line, and fixes it.
 */
class ConsoleBrowserIT extends AppIntegrationTest {

    @TempDir
    Path profile;

    private WebDriver browser;
    private WebDriverWait wait;

    @BeforeEach
    void openChromium() {
        assertThat(new File("/usr/bin/chromium")).as("Debian's chromium (see .ci/run)").exists();
        assertThat(new File("/usr/bin/chromedriver")).as("Debian's chromium-driver (see .ci/run)").exists();
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1400,2400", "--user-data-dir=" + profile.toAbsolutePath());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        wait = new WebDriverWait(browser, Duration.ofSeconds(30));
    }

    @AfterEach
    void closeChromium() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void anInformaticianRunsAHookSeesTheCardsAndFixesABrokenEdit() throws Exception {
        browser.get(base() + "/console/");
        WebElement token = browser.findElement(By.id("token"));
        token.sendKeys(keys().fhirToken("user/*.read", TestKeys.AUTHORING_SCOPE));
        token.sendKeys(org.openqa.selenium.Keys.TAB);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#services [data-rule='R1']")));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#run-patient option[value='crlm-demo-11']")));

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
        assertThat(r1.findElement(By.className("card-detail")).getText()).contains("This patient:").contains("p = 0.044");
        assertThat(r1.findElement(By.className("card-source")).getText()).contains("Giannone");
        WebElement why = browser.findElement(By.cssSelector("#expressions [data-name='R1 Applies']"));
        assertThat(why.getText()).contains("true");
        screenshot("console-run-order-sign.png", "h-try");

        // Open the rules library, break it, see the error at its line, fix it.
        browser.findElement(By.cssSelector("#libraries [data-library='CRLMAblationRules']")).click();
        wait.until(d -> ((String) js("return document.getElementById('editor').value")).contains("define \"R1 Applies\""));
        wait.until(ExpectedConditions.attributeContains(By.id("validation"), "class", "ok"));
        String original = (String) js("return document.getElementById('editor').value");
        String broken = original.replace("\"KRAS Status\" = 'mutated' and \"Ablation Planned\"\n\ndefine \"R2",
                "\"KRAS Status\" = 'mutated' and \"Ablation Plannned\"\n\ndefine \"R2");
        assertThat(broken).isNotEqualTo(original);
        int line = (int) broken.substring(0, broken.indexOf("Ablation Plannned")).chars().filter(c -> c == '\n').count() + 1;
        setEditor(broken);
        wait.until(ExpectedConditions.attributeContains(By.id("validation"), "class", "has-errors"));
        WebElement error = wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#validation .cql-error[data-line='" + line + "']")));
        assertThat(error.getText()).contains("Line " + line).contains("Ablation Plannned");
        assertThat(browser.findElement(By.id("publish")).isEnabled()).isFalse();
        screenshot("console-editing-error.png", "h-edit");

        setEditor(original);
        wait.until(ExpectedConditions.attributeContains(By.id("validation"), "class", "ok"));
        assertThat(browser.findElements(By.cssSelector("#validation .cql-error"))).isEmpty();
    }

    private void setEditor(String text) {
        js("const e = document.getElementById('editor'); e.value = arguments[0]; e.dispatchEvent(new Event('input', {bubbles: true}));", text);
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
