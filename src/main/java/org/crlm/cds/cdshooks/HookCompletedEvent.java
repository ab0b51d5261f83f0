package org.crlm.cds.cdshooks;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Published after every hook call, answered or refused, for the write-behind consumers
 * (issued cards, audit, metrics). Carries ids and rule ids only, never clinical values.
 *
 * @param outcome null when the call was refused before a decision
 */
public record HookCompletedEvent(
        Instant at,
        String serviceId,
        String hook,
        String hookInstance,
        String patientId,
        String clientIssuer,
        String correlationId,
        int httpStatus,
        long durationNanos,
        HookOutcome outcome) {

    public List<IssuedCard> cards() {
        return outcome == null ? List.of() : outcome.cards();
    }

    public Map<String, String> libraryVersions() {
        return outcome == null ? Map.of() : outcome.libraryVersions();
    }
}
