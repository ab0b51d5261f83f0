package org.crlm.cds.ops;

import jakarta.annotation.PreDestroy;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.crlm.cds.cdshooks.HookCompletedEvent;
import org.crlm.cds.cdshooks.IssuedCard;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Every hook decision, answered or refused: time, service, hook instance, patient id, rules
 * fired, library versions, client issuer, status. Ids only, no clinical values. Written
 * behind the response in batches; deleted after the retention period.
 */
@Component
public class AuditTrail {

    private final JdbcTemplate jdbc;
    private final AuditProperties properties;
    private final WriteBehindQueue<HookCompletedEvent> queue;

    public AuditTrail(JdbcTemplate jdbc, AuditProperties properties) {
        this.jdbc = jdbc;
        this.properties = properties;
        this.queue = new WriteBehindQueue<>("audit", 250, 500, this::write);
    }

    @EventListener
    public void on(HookCompletedEvent event) {
        queue.add(event);
    }

    public void flush() {
        queue.flush();
    }

    private void write(List<HookCompletedEvent> events) {
        jdbc.batchUpdate("insert into cds_audit_event (occurred_at, service_id, hook, hook_instance, patient_id, rules_fired,"
                + " library_versions, client_issuer, correlation_id, http_status, duration_ms) values (?,?,?,?,?,?,?,?,?,?,?)",
                events, events.size(), (ps, e) -> {
                    ps.setTimestamp(1, Timestamp.from(e.at()));
                    ps.setString(2, cut(e.serviceId(), 100));
                    ps.setString(3, cut(e.hook(), 50));
                    ps.setString(4, cut(e.hookInstance(), 100));
                    ps.setString(5, cut(e.patientId(), 64));
                    ps.setString(6, cut(e.cards().stream().map(IssuedCard::ruleId).collect(Collectors.joining(",")), 200));
                    ps.setString(7, cut(e.libraryVersions().entrySet().stream().map(Map.Entry::toString)
                            .collect(Collectors.joining(",")), 500));
                    ps.setString(8, cut(e.clientIssuer(), 500));
                    ps.setString(9, cut(e.correlationId(), 64));
                    ps.setInt(10, e.httpStatus());
                    ps.setInt(11, (int) Math.min(Integer.MAX_VALUE, e.durationNanos() / 1_000_000));
                });
    }

    private static String cut(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }

    @Scheduled(fixedDelayString = "PT1H", initialDelayString = "PT1M")
    public void applyRetention() {
        jdbc.update("delete from cds_audit_event where occurred_at < ?",
                Timestamp.from(Instant.now().minus(properties.retention())));
    }

    @PreDestroy
    public void close() {
        queue.close();
    }
}
