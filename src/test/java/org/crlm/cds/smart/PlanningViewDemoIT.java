package org.crlm.cds.smart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.CrlmCdsApplication;
import org.crlm.cds.support.HeadlessChromium;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.TestKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The Ablation planning view in the one-command demo (profile demo: open FHIR server, no
 * authorization server), launched the way the CDS Hooks Sandbox launches a card's smart link: the
 * link's url with {@code fhirServiceUrl}, {@code patientId} and the card's {@code appContext}
 * appended. A real Chromium draws it; nothing may be logged as an error in its console.
 */
class PlanningViewDemoIT {

    private static ConfigurableApplicationContext demo;
    private static String base;

    @TempDir
    Path profile;

    @BeforeAll
    static void startTheDemo() throws Exception {
        Path data = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "planning-view-demo-");
        int port = TestKeys.freePort();
        base = "http://127.0.0.1:" + port;
        demo = new SpringApplicationBuilder(CrlmCdsApplication.class)
                .profiles("demo")
                .run(
                        "--server.port=" + port,
                        "--crlm.data-dir=" + data,
                        "--crlm.cds.planning-view-url=" + base + "/smart/launch.html");
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(500))
                .ignoreExceptions()
                .until(() -> Http.get(base + "/actuator/health/readiness", null).status() == 200);
    }

    @AfterAll
    static void stopTheDemo() {
        if (demo != null) {
            demo.close();
        }
    }

    private static String sandboxLaunch(String url, String patientId, String appContext) {
        String launch = url + "?fhirServiceUrl=" + URLEncoder.encode(base + "/fhir", StandardCharsets.UTF_8)
                + "&patientId=" + URLEncoder.encode(patientId, StandardCharsets.UTF_8);
        return appContext == null
                ? launch
                : launch + "&appContext=" + URLEncoder.encode(appContext, StandardCharsets.UTF_8);
    }

    @Test
    void aSurgeonOpensThePlanningViewForADemoPatientWithoutAnAuthorizationServer() throws Exception {
        try (HeadlessChromium chromium = new HeadlessChromium(profile)) {
            chromium.browser().get(sandboxLaunch(base + "/smart/launch.html", "crlm-demo-04", null));
            PlanningViewPage page = new PlanningViewPage(chromium).awaitDrawn();
            page.showsCrlmDemo04();
            page.screenshot(Path.of("target", "screenshots", "planning-view-crlm-demo-04.png"));
            assertThat(chromium.consoleErrors()).as("browser console errors").isEmpty();
        }
    }

    @Test
    void aCardsSmartLinkOpensTheViewWithTheCardsRuleAndPlannedLesions() throws Exception {
        // crlm-demo-11 signs a new microwave ablation naming no lesion: R3 fires for its 41 mm lesion.
        String request = Files.readString(Path.of("src", "docs", "order-sign-crlm-demo-11.json"));
        Http.Response answer = Http.postJson(base + "/cds-services/crlm-ablation-order-sign", request, null);
        assertThat(answer.status()).isEqualTo(200);
        JsonNode r3 = null;
        for (JsonNode card : Http.JSON.readTree(answer.body()).path("cards")) {
            if ("R3".equals(card.path("source").path("topic").path("code").asText())) {
                r3 = card;
            }
        }
        assertThat(r3).as("the R3 card").isNotNull();
        JsonNode link = null;
        for (JsonNode l : r3.path("links")) {
            if ("smart".equals(l.path("type").asText())) {
                link = l;
            }
        }
        assertThat(link).as("the card's smart link").isNotNull();
        assertThat(link.path("url").asText()).isEqualTo(base + "/smart/launch.html");
        assertThat(link.path("label").asText()).contains("Ablation planning view");
        String appContext = link.path("appContext").asText();
        JsonNode context = Http.JSON.readTree(appContext);
        assertThat(context.path("rule").asText()).isEqualTo("R3");
        List<String> planned = new ArrayList<>();
        context.path("plannedLesions").forEach(n -> planned.add(n.asText()));
        assertThat(planned).as("the lesions the decision read as planned").isNotEmpty();
        assertThat(context.path("resources"))
                .as("the resources behind the decision")
                .isNotEmpty();

        try (HeadlessChromium chromium = new HeadlessChromium(profile)) {
            chromium.browser().get(sandboxLaunch(link.path("url").asText(), "crlm-demo-11", appContext));
            PlanningViewPage page = new PlanningViewPage(chromium).awaitDrawn();
            assertThat(page.launchedFromRule()).isEqualTo("R3");
            assertThat(chromium.browser().findElement(By.id("launch-context")).getText())
                    .contains("rule R3")
                    .contains(planned.get(0));
            for (String lesion : planned) {
                WebElement row = page.lesionRows().stream()
                        .filter(r -> lesion.equals(r.getAttribute("data-lesion")))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no row for planned lesion " + lesion));
                assertThat(row.getAttribute("data-planned")).isEqualTo("true");
            }
            // The card's rule brings its evidence into the forest plot: lesion diameter and local progression.
            assertThat(page.forestRows())
                    .extracting(r -> r.getAttribute("data-estimate"))
                    .contains("diameter-ltp", "kras-ltpfs");
            assertThat(page.levelsOfEvidence())
                    .extracting(li -> li.getAttribute("data-rule"))
                    .contains("R3");
            assertThat(chromium.consoleErrors()).as("browser console errors").isEmpty();
        }
    }
}
