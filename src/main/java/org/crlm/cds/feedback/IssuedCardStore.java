package org.crlm.cds.feedback;

import java.sql.Timestamp;
import java.util.List;
import java.util.Optional;
import org.crlm.cds.cdshooks.HookCompletedEvent;
import org.crlm.cds.cdshooks.IssuedCard;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Remembers every card issued (uuid → service, rule, library version), written synchronously
 * in the transaction the hook controller opens before it answers, so feedback on any card an
 * EHR received finds it, even after a crash.
 */
@Component
public class IssuedCardStore {

    /** A stored card. */
    public record StoredCard(String uuid, String serviceId, String ruleId, String libraryVersion) {}

    private record Row(HookCompletedEvent event, IssuedCard card) {}

    private final JdbcTemplate jdbc;

    public IssuedCardStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @EventListener
    public void on(HookCompletedEvent event) {
        if (!event.cards().isEmpty()) {
            write(event.cards().stream().map(card -> new Row(event, card)).toList());
        }
    }

    public Optional<StoredCard> find(String uuid) {
        List<StoredCard> found = jdbc.query(
                "select card_uuid, service_id, rule_id, library_version from cds_issued_card where card_uuid = ?",
                (rs, i) -> new StoredCard(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)),
                uuid);
        return found.stream().findFirst();
    }

    private void write(List<Row> rows) {
        jdbc.batchUpdate(
                "insert into cds_issued_card (card_uuid, service_id, hook, hook_instance, rule_id, library_url,"
                        + " library_version, indicator, issued_at) values (?,?,?,?,?,?,?,?,?)",
                rows,
                rows.size(),
                (ps, row) -> {
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
}
