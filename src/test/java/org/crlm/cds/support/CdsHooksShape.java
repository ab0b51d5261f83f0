package org.crlm.cds.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a response body against the CDS Hooks 2.0 response definition: required fields,
 * enums, the summary limit, Coding shape, suggestion and link rules, and no null or empty
 * values where the spec forbids them.
 */
public final class CdsHooksShape {

    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Set<String> CARD_FIELDS = Set.of(
            "uuid",
            "summary",
            "detail",
            "indicator",
            "source",
            "suggestions",
            "selectionBehavior",
            "overrideReasons",
            "links",
            "extension");

    private CdsHooksShape() {}

    public static void assertServiceResponse(JsonNode body) {
        assertThat(body.isObject()).as("response is an object").isTrue();
        assertThat(body.has("cards") && body.get("cards").isArray())
                .as("response has a cards array")
                .isTrue();
        body.fieldNames().forEachRemaining(f -> assertThat(f).isIn("cards", "systemActions", "extension"));
        for (JsonNode card : body.get("cards")) {
            assertCard(card);
        }
        assertNoNullOrEmpty(body, "$", true);
    }

    public static void assertCard(JsonNode card) {
        card.fieldNames().forEachRemaining(f -> assertThat(f).as("card field").isIn(CARD_FIELDS));
        assertThat(card.path("uuid").asText()).as("card.uuid").matches(UUID);
        String summary = card.path("summary").asText();
        assertThat(summary).as("card.summary").isNotBlank();
        assertThat(summary.length()).as("card.summary length").isLessThan(140);
        assertThat(card.path("indicator").asText()).as("card.indicator").isIn("info", "warning", "critical");
        if (card.has("detail")) {
            assertThat(card.get("detail").isTextual()).isTrue();
        }
        JsonNode source = card.path("source");
        assertThat(source.path("label").asText()).as("card.source.label").isNotBlank();
        if (source.has("url")) {
            assertThat(source.get("url").asText()).startsWith("https://");
        }
        if (source.has("topic")) {
            assertCoding(source.get("topic"), false);
        }
        if (card.has("overrideReasons")) {
            for (JsonNode reason : card.get("overrideReasons")) {
                assertCoding(reason, true);
            }
        }
        if (card.has("suggestions")) {
            assertThat(card.path("selectionBehavior").asText())
                    .as("selectionBehavior with suggestions")
                    .isIn("at-most-one", "any");
            int recommended = 0;
            for (JsonNode s : card.get("suggestions")) {
                assertThat(s.path("label").asText()).isNotBlank();
                assertThat(s.path("uuid").asText()).matches(UUID);
                if (s.path("isRecommended").asBoolean(false)) {
                    recommended++;
                }
                for (JsonNode action : s.path("actions")) {
                    assertThat(action.path("type").asText()).isIn("create", "update", "delete");
                    assertThat(action.path("description").asText()).isNotBlank();
                    if (!"delete".equals(action.path("type").asText())) {
                        assertThat(action.path("resource").path("resourceType").asText())
                                .isNotBlank();
                    }
                }
            }
            if ("at-most-one".equals(card.path("selectionBehavior").asText())) {
                assertThat(recommended).as("at most one recommended suggestion").isLessThanOrEqualTo(1);
            }
        }
        if (card.has("links")) {
            for (JsonNode link : card.get("links")) {
                assertThat(link.path("label").asText()).isNotBlank();
                assertThat(link.path("url").asText()).isNotBlank();
                assertThat(link.path("type").asText()).isIn("absolute", "smart");
            }
        }
    }

    private static void assertCoding(JsonNode coding, boolean displayRequired) {
        assertThat(coding.path("system").asText()).as("Coding.system").isNotBlank();
        assertThat(coding.path("code").asText()).as("Coding.code").isNotBlank();
        if (displayRequired) {
            assertThat(coding.path("display").asText()).as("Coding.display").isNotBlank();
        }
    }

    /** CDS Hooks 2.0: no element may be null or empty, except the top-level cards array. */
    public static void assertNoNullOrEmpty(JsonNode node, String path, boolean root) {
        if (node.isNull()) {
            throw new AssertionError(path + " is null");
        }
        if (node.isTextual() && node.asText().isEmpty()) {
            throw new AssertionError(path + " is an empty string");
        }
        if (node.isContainerNode() && node.isEmpty() && !(path.equals("$.cards"))) {
            throw new AssertionError(path + " is empty");
        }
        if (node.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                if (path.endsWith(".resource")) {
                    continue; // FHIR resources follow FHIR's own rules
                }
                assertNoNullOrEmpty(f.getValue(), path + "." + f.getKey(), false);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                assertNoNullOrEmpty(node.get(i), path + "[" + i + "]", false);
            }
        }
    }

    public static Set<String> ruleIds(JsonNode body) {
        Set<String> ids = new java.util.TreeSet<>();
        body.path("cards")
                .forEach(
                        c -> ids.add(c.path("source").path("topic").path("code").asText()));
        return ids;
    }
}
