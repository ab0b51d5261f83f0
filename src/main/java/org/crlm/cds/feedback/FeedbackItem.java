package org.crlm.cds.feedback;

import java.time.Instant;
import java.util.List;

/**
 * One CDS Hooks 2.0 feedback item, validated.
 *
 * @param userComment free text the clinician typed; stored for the rule authors, never logged
 */
public record FeedbackItem(
        String card,
        String outcome,
        List<String> acceptedSuggestions,
        String reasonSystem,
        String reasonCode,
        String userComment,
        Instant outcomeTimestamp) {}
