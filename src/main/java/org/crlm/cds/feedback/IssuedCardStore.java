package org.crlm.cds.feedback;

import jakarta.annotation.PreDestroy;
import java.sql.Timestamp;
import java.util.List;
import java.util.Optional;
import org.crlm.cds.cdshooks.HookCompletedEvent;
import org.crlm.cds.cdshooks.IssuedCard;
import org.crlm.cds.ops.WriteBehindQueue;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Remembers every card issued (uuid → service, rule, library version), written behind the
 * response in batches, so feedback can be checked and counted per rule version.
 */
@Component
public class IssuedCardStore {

    /** A stored card. */
    public record StoredCard(String uuid, String serviceId, String ruleId, String libraryVersion) {
    }

    private record Row(HookCompletedEvent event, IssuedCard card) {
    }

    private final JdbcTemplate jdbc;
    private final WriteBehindQueue<Row> queue;

    public IssuedCardStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
        this.queue = new WriteBehindQueue<>("issued-cards", 200, 500, this::write);
    }

    @EventListener
    public void on(HookCompletedEvent event) {
        for (IssuedCard card : event.cards()) {
            queue.add(new Row(event, card));
        }
    }

    /** Writes what this node has queued, so a lookup right after a call sees its cards. */
    public void flush() {
        queue.flush();
    }

    public Optional<StoredCard> find(String uuid) {
        List<StoredCard> found = jdbc.query(
                "select card_uuid, service_id, rule_id, library_version from cds_issued_card where card_uuid = ?",
                (rs, i) -> new StoredCard(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)), uuid);
        return found.stream().findFirst();
    }

    private void write(List<Row> rows) {
        jdbc.batchUpdate("insert into cds_issued_card (card_uuid, service_id, hook, hook_instance, rule_id, library_url,"
                + " library_version, indicator, issued_at) values (?,?,?,?,?,?,?,?,?)", rows, rows.size(), (ps, row) -> {
                    ps.setString(1, row.card().uuid());
                    ps.setString(2, row.event().serviceId());
                    ps.setString(3, row.event().hook());
                    ps.setString(4, row.event().hookInstance());
                    ps.setString(5, row.card().ruleId());
                    ps.setString(6, row.card().libraryUrl());
                    ps.setString(7, row.card().libraryVersion());
                    ps.setString(8, row.card().indicator());
                    ps.setTimestamp(9, Timestamp.from(row.event().at()));
                });
    }

    @PreDestroy
    public void close() {
        queue.close();
    }
}
