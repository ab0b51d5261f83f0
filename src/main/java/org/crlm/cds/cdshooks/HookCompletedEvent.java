package org.crlm.cds.cdshooks;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Published after every hook call, answered or refused, for the consumers that record it
 * (issued cards, audit, metrics). Ids, codes and counts only: never the request body, the
 * patient's resources, or the EHR's access token.
 *
 * @param cards       the cards issued (empty when the call was refused)
 * @param failedRules rules that could not be evaluated
 * @param dataSources prefetch key → where its data came from
 * @param resourcesRead every resource the decision read: reference, version and where it came from (ids only)
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
        List<IssuedCard> cards,
        List<String> failedRules,
        Map<String, String> libraryVersions,
        Map<String, PatientRecord.Source> dataSources,
        List<PatientRecord.ResourceRead> resourcesRead) {

    /** The ids of an answered call. */
    static HookCompletedEvent answered(
            Instant at,
            String serviceId,
            HookOutcome outcome,
            String clientIssuer,
            String correlationId,
            int httpStatus,
            long durationNanos) {
        HookRequest request = outcome.request();
        return new HookCompletedEvent(
                at,
                serviceId,
                request.hook(),
                request.hookInstance(),
                request.context().patientId(),
                clientIssuer,
                correlationId,
                httpStatus,
                durationNanos,
                List.copyOf(outcome.cards()),
                List.copyOf(outcome.failedRules()),
                Map.copyOf(outcome.libraryVersions()),
                Map.copyOf(outcome.dataSources()),
                outcome.record() == null ? List.of() : outcome.record().read());
    }

    /** The ids of a refused call, as far as the (possibly malformed) request named them. */
    static HookCompletedEvent refused(
            Instant at,
            String serviceId,
            String hook,
            String hookInstance,
            String patientId,
            String clientIssuer,
            String correlationId,
            int httpStatus,
            long durationNanos) {
        return new HookCompletedEvent(
                at,
                serviceId,
                hook,
                hookInstance,
                patientId,
                clientIssuer,
                correlationId,
                httpStatus,
                durationNanos,
                List.of(),
                List.of(),
                Map.of(),
                Map.of(),
                List.of());
    }
}
