package org.crlm.cds.smart;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.crlm.cds.support.HeadlessChromium;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;

/** The Ablation planning view as a surgeon sees it, read from the page a real Chromium drew. */
final class PlanningViewPage {

    private final HeadlessChromium chromium;

    PlanningViewPage(HeadlessChromium chromium) {
        this.chromium = chromium;
    }

    /** Waits until the view has drawn (or failed, which fails the test with the page's message). */
    PlanningViewPage awaitDrawn() {
        // Read through script: the launch navigates (launch page, authorization server, the view), so an
        // element found on one page may be gone on the next.
        chromium.await().until(d -> {
            Object state = ((JavascriptExecutor) d)
                    .executeScript("return document.body ? document.body.getAttribute('data-state') : null");
            return state != null && !state.toString().isEmpty();
        });
        assertThat(chromium.browser().findElement(By.tagName("body")).getAttribute("data-state"))
                .as(
                        "the view drew: %s",
                        chromium.browser().findElement(By.id("error")).getText())
                .isEqualTo("ready");
        return this;
    }

    List<WebElement> lesionRows() {
        return chromium.browser().findElements(By.cssSelector("#lesion-table tbody tr[data-lesion]"));
    }

    WebElement gene(String gene) {
        return chromium.browser().findElement(By.cssSelector("#gene-table tr[data-gene='" + gene + "']"));
    }

    List<WebElement> forestRows() {
        return chromium.browser().findElements(By.cssSelector("#forest-table tbody tr[data-estimate]"));
    }

    List<WebElement> gaps() {
        return chromium.browser().findElements(By.cssSelector("#gaps li.gap"));
    }

    List<WebElement> levelsOfEvidence() {
        return chromium.browser().findElements(By.cssSelector("#levels li[data-rule]"));
    }

    String launchedFromRule() {
        WebElement context = chromium.browser().findElement(By.id("launch-context"));
        return context.getAttribute("data-rule");
    }

    /** A value of a drawn chart's option (the chart the user sees, not a table). */
    Object chart(String script) {
        return ((JavascriptExecutor) chromium.browser()).executeScript("return " + script);
    }

    void screenshot(Path file) throws Exception {
        Files.createDirectories(file.getParent());
        Files.write(file, ((TakesScreenshot) chromium.browser()).getScreenshotAs(OutputType.BYTES));
    }

    /**
     * Demo patient crlm-demo-04: BRAF p.Val600Glu, KRAS not detected, a text-only microwave ablation
     * order naming no lesion (every liver lesion is a candidate), so R4 fires and the order is a gap.
     */
    void showsCrlmDemo04() {
        List<WebElement> lesions = lesionRows();
        assertThat(lesions).as("liver lesions").isNotEmpty();
        assertThat(lesions)
                .as("a planned lesion with its latest maximum diameter and date")
                .anySatisfy(row -> {
                    assertThat(row.getAttribute("data-planned")).isEqualTo("true");
                    assertThat(row.getAttribute("data-mm")).isNotBlank();
                    assertThat(row.findElements(By.tagName("td")).get(2).getText())
                            .matches("\\d{4}-\\d{2}-\\d{2}.*");
                });
        assertThat(chart("planningCharts.lesions.getOption().series[0].type")).isEqualTo("bar");
        assertThat(((Number) chart("planningCharts.lesions.getOption().series[0].markLine.data[0].xAxis"))
                        .doubleValue())
                .as("the 30 mm threshold line on the lesion chart")
                .isEqualTo(30.0);
        assertThat(((Number)
                                chart(
                                        "planningCharts.lesions.getOption().series[0].data.filter(d => d.value != null).length"))
                        .intValue())
                .isPositive();

        assertThat(gene("BRAF").getAttribute("data-status")).isEqualTo("mutated");
        assertThat(gene("BRAF").getText()).contains("p.Val600Glu");
        assertThat(gene("KRAS").getAttribute("data-status")).isEqualTo("wild type");
        assertThat(gene("KRAS").findElements(By.cssSelector("li[data-observation]")))
                .as("each KRAS result with its date")
                .isNotEmpty()
                .allSatisfy(li -> assertThat(li.getText()).matches("\\d{4}-\\d{2}-\\d{2}: .*"));
        assertThat(((Number) chart("planningCharts.genes.getOption().series[0].data.length")).intValue())
                .as("gene results on the timeline")
                .isPositive();

        assertThat(forestRows())
                .extracting(row -> row.getAttribute("data-estimate"))
                .contains("braf-ltpfs");
        WebElement braf =
                chromium.browser().findElement(By.cssSelector("#forest-table tr[data-estimate='braf-ltpfs']"));
        assertThat(braf.getText()).contains("4.35 (1.47–12.86)").contains("0.008");
        assertThat(chart("planningCharts.forest.getOption().xAxis[0].type"))
                .as("hazard ratios on a log scale")
                .isEqualTo("log");
        assertThat(chart("planningCharts.forest.getOption().series[1].data.map(d => d.value[0])"))
                .asList()
                .contains(4.35);
        assertThat(chart("planningCharts.forest.getOption().series[0].data.map(d => d.slice(0, 2))"))
                .as("the 95% confidence intervals drawn")
                .asList()
                .contains(List.of(1.47, 12.86));
        assertThat(levelsOfEvidence())
                .extracting(li -> li.getAttribute("data-rule"))
                .contains("R4");
        assertThat(levelsOfEvidence()).allSatisfy(li -> assertThat(li.getText()).containsIgnoringCase("retrospective"));

        assertThat(gaps())
                .as("what could not be assessed")
                .extracting(WebElement::getText)
                .anySatisfy(text -> assertThat(text).contains("recognised only from its text"));
    }
}
