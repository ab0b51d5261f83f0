package org.crlm.cds.ops;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.crlm.cds.cdshooks.HookCompletedEvent;
import org.crlm.cds.cdshooks.IssuedCard;
import org.crlm.cds.cdshooks.PatientRecord;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Every hook decision, answered or refused: time, service, hook instance, patient id, rules
 * fired, library versions, client issuer, status, and the resources read (reference, version,
 * where each came from). Ids only, no clinical values. Written synchronously, in the
 * transaction the hook controller opens before it sends the answer, so a row exists for every
 * answer sent; deleted after the retention period.
 */
@Component
public class AuditTrail {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final JdbcTemplate jdbc;
    private final AuditProperties properties;

    public AuditTrail(JdbcTemplate jdbc, AuditProperties properties) {
        this.jdbc = jdbc;
        this.properties = properties;
    }

    @EventListener
    public void on(HookCompletedEvent event) {
        write(List.of(event));
    }

    private void write(List<HookCompletedEvent> events) {
        jdbc.batchUpdate(
                "insert into cds_audit_event (occurred_at, service_id, hook, hook_instance, patient_id, rules_fired,"
                        + " library_versions, client_issuer, correlation_id, http_status, duration_ms, resources_read, data_sources)"
                        + " values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                events,
                events.size(),
                (ps, e) -> {
                    ps.setTimestamp(1, Timestamp.from(e.at()));
                    ps.setString(2, cut(e.serviceId(), 100));
                    ps.setString(3, cut(e.hook(), 50));
                    ps.setString(4, cut(e.hookInstance(), 100));
                    ps.setString(5, cut(e.patientId(), 64));
                    ps.setString(
                            6, cut(e.cards().stream().map(IssuedCard::ruleId).collect(Collectors.joining(",")), 200));
                    ps.setString(
                            7,
                            cut(
                                    e.libraryVersions().entrySet().stream()
                                            .map(Map.Entry::toString)
                                            .collect(Collectors.joining(",")),
                                    500));
                    ps.setString(8, cut(e.clientIssuer(), 500));
                    ps.setString(9, cut(e.correlationId(), 64));
                    ps.setInt(10, e.httpStatus());
                    ps.setInt(11, (int) Math.min(Integer.MAX_VALUE, e.durationNanos() / 1_000_000));
                    ps.setString(12, resourcesRead(e.resourcesRead()));
                    ps.setString(
                            13,
                            cut(
                                    e.dataSources().entrySet().stream()
                                            .map(Map.Entry::toString)
                                            .collect(Collectors.joining(",")),
                                    1000));
                });
    }

    /**
     * [{"reference":"Observation/o1","version":"3","source":"PREFETCH","prefetchKey":"geneticResults"}, …],
     * written straight to text (no tree of the rows first: this runs on every call).
     */
    static String resourcesRead(List<PatientRecord.ResourceRead> read) {
        StringWriter text = new StringWriter(96 * read.size() + 2);
        try (JsonGenerator json = JSON.getFactory().createGenerator(text)) {
            json.writeStartArray();
            for (PatientRecord.ResourceRead r : read) {
                json.writeStartObject();
                json.writeStringField("reference", r.reference());
                json.writeStringField("version", r.version());
                json.writeStringField(
                        "source", r.source() == null ? null : r.source().name());
                json.writeStringField("prefetchKey", r.prefetchKey());
                json.writeEndObject();
            }
            json.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    private static String cut(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }

    @Scheduled(fixedDelayString = "PT1H", initialDelayString = "PT1M")
    public void applyRetention() {
        jdbc.update(
                "delete from cds_audit_event where occurred_at < ?",
                Timestamp.from(Instant.now().minus(properties.retention())));
    }
}
