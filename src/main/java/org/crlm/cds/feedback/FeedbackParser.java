package org.crlm.cds.feedback;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.crlm.cds.cdshooks.InvalidHookRequestException;

/** Reads the CDS Hooks 2.0 feedback envelope {@code {"feedback": [...]}}; the first bad field is named. */
final class FeedbackParser {

    private static final Pattern UUID =
            Pattern.compile("(urn:uuid:)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private FeedbackParser() {}

    static List<FeedbackItem> parse(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new InvalidHookRequestException("$", "The feedback body must be a JSON object {\"feedback\": [...]}");
        }
        JsonNode list = root.get("feedback");
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new InvalidHookRequestException("feedback", "feedback must be a non-empty array of feedback items");
        }
        List<FeedbackItem> items = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            items.add(item(list.get(i), "feedback[" + i + "]"));
        }
        return items;
    }

    private static FeedbackItem item(JsonNode node, String at) {
        if (!node.isObject()) {
            throw new InvalidHookRequestException(at, at + " must be an object");
        }
        String card = text(node, "card", at, true);
        if (!UUID.matcher(card).matches()) {
            throw new InvalidHookRequestException(
                    at + ".card", at + ".card must be the uuid of a card this service issued");
        }
        card = card.startsWith("urn:uuid:") ? card.substring(9) : card;
        String outcome = text(node, "outcome", at, true);
        if (!outcome.equals("accepted") && !outcome.equals("overridden")) {
            throw new InvalidHookRequestException(at + ".outcome", at + ".outcome must be accepted or overridden");
        }
        List<String> accepted = new ArrayList<>();
        JsonNode suggestions = node.get("acceptedSuggestions");
        if (suggestions != null && !suggestions.isNull()) {
            if (!suggestions.isArray()) {
                throw new InvalidHookRequestException(
                        at + ".acceptedSuggestions", at + ".acceptedSuggestions must be an array");
            }
            for (int j = 0; j < suggestions.size(); j++) {
                accepted.add(text(suggestions.get(j), "id", at + ".acceptedSuggestions[" + j + "]", true));
            }
        }
        if (outcome.equals("accepted") && (suggestions == null || suggestions.isNull())) {
            throw new InvalidHookRequestException(
                    at + ".acceptedSuggestions", at + ".acceptedSuggestions is required when outcome is accepted");
        }
        String reasonSystem = null;
        String reasonCode = null;
        String comment = null;
        JsonNode override = node.get("overrideReason");
        if (override != null && !override.isNull()) {
            if (!outcome.equals("overridden")) {
                throw new InvalidHookRequestException(
                        at + ".overrideReason", at + ".overrideReason is only for outcome overridden");
            }
            if (!override.isObject()) {
                throw new InvalidHookRequestException(at + ".overrideReason", at + ".overrideReason must be an object");
            }
            JsonNode reason = override.get("reason");
            if (reason != null && !reason.isNull()) {
                if (!reason.isObject()) {
                    throw new InvalidHookRequestException(
                            at + ".overrideReason.reason", at + ".overrideReason.reason must be a Coding");
                }
                reasonSystem = text(reason, "system", at + ".overrideReason.reason", true);
                reasonCode = text(reason, "code", at + ".overrideReason.reason", true);
            }
            comment = text(override, "userComment", at + ".overrideReason", false);
            if (reasonCode == null && comment == null) {
                throw new InvalidHookRequestException(
                        at + ".overrideReason", at + ".overrideReason needs a reason or a userComment");
            }
            if (comment != null && comment.length() > 4000) {
                throw new InvalidHookRequestException(
                        at + ".overrideReason.userComment",
                        at + ".overrideReason.userComment is longer than 4000 characters");
            }
        }
        String when = text(node, "outcomeTimestamp", at, true);
        Instant timestamp;
        try {
            timestamp = OffsetDateTime.parse(when).toInstant();
        } catch (DateTimeParseException e) {
            throw new InvalidHookRequestException(
                    at + ".outcomeTimestamp",
                    at + ".outcomeTimestamp must be an ISO 8601 date-time with zone, e.g. 2026-11-21T10:15:00Z");
        }
        return new FeedbackItem(card, outcome, accepted, reasonSystem, reasonCode, comment, timestamp);
    }

    private static String text(JsonNode node, String name, String at, boolean required) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            if (required) {
                throw new InvalidHookRequestException(at + "." + name, at + "." + name + " is required");
            }
            return null;
        }
        if (!value.isTextual()) {
            throw new InvalidHookRequestException(at + "." + name, at + "." + name + " must be a string");
        }
        return value.asText();
    }
}
