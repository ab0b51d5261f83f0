package org.crlm.cds.feedback;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;

/** Feedback rows and the per-rule, per-version counts informaticians read. */
@Repository
public class FeedbackRepository {

    /** Accept/override counts for one rule version. */
    public record RuleCounts(String ruleId, String libraryVersion, long issued, long accepted, long overridden) {
        public double overrideRate() {
            long answered = accepted + overridden;
            return answered == 0 ? 0.0 : (double) overridden / answered;
        }
    }

    /** How often a reason was given when overriding a rule version. */
    public record ReasonCount(String ruleId, String libraryVersion, String reasonCode, long count) {
    }

    private final JdbcTemplate jdbc;

    public FeedbackRepository(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    boolean exists(String card, String outcome, Instant timestamp) {
        Integer n = jdbc.queryForObject("select count(*) from cds_feedback where card_uuid = ? and outcome = ? and outcome_timestamp = ?",
                Integer.class, card, outcome, Timestamp.from(timestamp));
        return n != null && n > 0;
    }

    void insert(IssuedCardStore.StoredCard card, FeedbackItem item) {
        jdbc.update("insert into cds_feedback (card_uuid, service_id, rule_id, library_version, outcome, accepted_suggestions,"
                + " override_reason_system, override_reason_code, user_comment, outcome_timestamp, received_at)"
                + " values (?,?,?,?,?,?,?,?,?,?,?)",
                card.uuid(), card.serviceId(), card.ruleId(), card.libraryVersion(), item.outcome(),
                String.join(",", item.acceptedSuggestions()), item.reasonSystem(), item.reasonCode(), item.userComment(),
                Timestamp.from(item.outcomeTimestamp()), Timestamp.from(Instant.now()));
    }

    public List<RuleCounts> countsByRuleVersion() {
        return jdbc.query("""
                select c.rule_id, c.library_version, count(distinct c.card_uuid),
                       count(distinct case when f.outcome = 'accepted' then f.card_uuid end),
                       count(distinct case when f.outcome = 'overridden' then f.card_uuid end)
                from cds_issued_card c left join cds_feedback f on f.card_uuid = c.card_uuid
                group by c.rule_id, c.library_version
                order by c.rule_id, c.library_version""",
                (rs, i) -> new RuleCounts(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)));
    }

    public List<ReasonCount> overrideReasons() {
        return jdbc.query("""
                select rule_id, library_version, coalesce(override_reason_code, '(none)'), count(*)
                from cds_feedback where outcome = 'overridden'
                group by rule_id, library_version, coalesce(override_reason_code, '(none)')
                order by rule_id, library_version""",
                (rs, i) -> new ReasonCount(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4)));
    }
}
