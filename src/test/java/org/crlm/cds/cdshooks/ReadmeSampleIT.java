package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.Http;
import org.junit.jupiter.api.Test;

/**
 * The README's sample order-sign answer is the answer a real call with its request file
 * (src/docs/order-sign-crlm-demo-11.json) gets now: the same cards in the same order, each with
 * the same rule, indicator, summary, detail (dates aside: the demo data is moved to the current
 * month when it is loaded), suggestions and override reasons.
 */
class ReadmeSampleIT extends AppIntegrationTest {

    @Test
    void theReadmeShowsTheCurrentAnswerToItsSampleOrderSignCall() throws Exception {
        String request = Files.readString(Path.of("src", "docs", "order-sign-crlm-demo-11.json"));
        Http.Response response = new CdsClient(base(), keys()).call("crlm-ablation-order-sign", request);
        assertThat(response.status()).as(response.body()).isEqualTo(200);

        List<String> actual = comparable(response.json());
        List<String> shown = comparable(Http.JSON.readTree(sampleAnswer()));
        assertThat(shown).isEqualTo(actual);
    }

    /** The JSON block after "The answer, most urgent first:" in README.md. */
    private static String sampleAnswer() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int intro = readme.indexOf("The answer, most urgent first:");
        assertThat(intro).as("README introduces the sample answer").isPositive();
        int start = readme.indexOf("```json\n", intro) + "```json\n".length();
        int end = readme.indexOf("\n```", start);
        return readme.substring(start, end);
    }

    private static List<String> comparable(JsonNode answer) {
        List<String> cards = new ArrayList<>();
        for (JsonNode card : answer.path("cards")) {
            List<String> parts = new ArrayList<>();
            parts.add(card.path("source").path("topic").path("code").asText());
            parts.add(card.path("indicator").asText());
            parts.add(card.path("summary").asText());
            parts.add(card.path("detail").asText().replaceAll("\\d{4}-\\d{2}-\\d{2}", "DATE"));
            parts.add(card.path("source").path("label").asText());
            for (JsonNode suggestion : card.path("suggestions")) {
                parts.add("suggestion " + suggestion.path("label").asText());
            }
            for (JsonNode reason : card.path("overrideReasons")) {
                parts.add("override " + reason.path("code").asText());
            }
            cards.add(String.join("\n", parts));
        }
        return cards;
    }
}
