package org.crlm.cds.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

/** Debian's chromium and chromium-driver (installed by .ci/run), headless, with the browser console recorded. */
public final class HeadlessChromium implements AutoCloseable {

    private final WebDriver browser;
    private final WebDriverWait wait;

    public HeadlessChromium(Path profile) {
        assertThat(new File("/usr/bin/chromium"))
                .as("Debian's chromium (see .ci/run)")
                .exists();
        assertThat(new File("/usr/bin/chromedriver"))
                .as("Debian's chromium-driver (see .ci/run)")
                .exists();
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1400,2400",
                "--user-data-dir=" + profile.toAbsolutePath());
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver"))
                .usingAnyFreePort()
                .build();
        browser = new ChromeDriver(service, options);
        wait = new WebDriverWait(browser, Duration.ofSeconds(60));
    }

    public WebDriver browser() {
        return browser;
    }

    public WebDriverWait await() {
        return wait;
    }

    public Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    /**
     * SEVERE browser-console entries: CSP refusals, script errors, failed loads. Except the console
     * API's 401s before the token is typed, and the answers the page shows as a refusal (422).
     */
    public List<String> consoleProblems() {
        return browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(entry -> entry.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::getMessage)
                .filter(message -> !(message.contains("/console/api/") && message.contains("status of 401")))
                .toList();
    }

    /** Every SEVERE browser-console entry (script errors, failed loads, refused requests), none excepted. */
    public List<String> consoleErrors() {
        return browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(entry -> entry.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::getMessage)
                .toList();
    }

    @Override
    public void close() {
        browser.quit();
    }
}
