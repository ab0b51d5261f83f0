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

    /** Counts of one rule of one service in one library version; the rate is null before any answer. */
    public record VersionCounts(
            String libraryVersion, long issued, long accepted, long overridden, Double overrideRate) {}

    /** One rule of one service with its counts per library version, oldest version first, side by side. */
    public record ServiceRuleCounts(String serviceId, String ruleId, List<VersionCounts> versions) {}

    /** How often a reason was given when overriding a rule version. */
    public record ReasonCount(String ruleId, String libraryVersion, String reasonCode, long count) {}

    private final JdbcTemplate jdbc;

    public FeedbackRepository(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    boolean exists(String card, String outcome, Instant timestamp) {
        Integer n = jdbc.queryForObject(
                "select count(*) from cds_feedback where card_uuid = ? and outcome = ? and outcome_timestamp = ?",
                Integer.class,
                card,
                outcome,
                Timestamp.from(timestamp));
        return n != null && n > 0;
    }

    void insert(IssuedCardStore.StoredCard card, FeedbackItem item) {
        jdbc.update(
                "insert into cds_feedback (card_uuid, service_id, rule_id, library_version, outcome, accepted_suggestions,"
                        + " override_reason_system, override_reason_code, user_comment, outcome_timestamp, received_at)"
                        + " values (?,?,?,?,?,?,?,?,?,?,?)",
                card.uuid(),
                card.serviceId(),
                card.ruleId(),
                card.libraryVersion(),
                item.outcome(),
                String.join(",", item.acceptedSuggestions()),
                item.reasonSystem(),
                item.reasonCode(),
                item.userComment(),
                Timestamp.from(item.outcomeTimestamp()),
                Timestamp.from(Instant.now()));
    }

    public List<RuleCounts> countsByRuleVersion() {
        return jdbc.query(
                """
                select c.rule_id, c.library_version, count(distinct c.card_uuid),
                       count(distinct case when f.outcome = 'accepted' then f.card_uuid end),
                       count(distinct case when f.outcome = 'overridden' then f.card_uuid end)
                from cds_issued_card c left join cds_feedback f on f.card_uuid = c.card_uuid
                group by c.rule_id, c.library_version
                order by c.rule_id, c.library_version""",
                (rs, i) ->
                        new RuleCounts(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)));
    }

    /** Per service and rule, the counts of every library version that issued its cards. */
    public List<ServiceRuleCounts> countsByServiceRuleVersion() {
        record Row(String service, String rule, String version, long issued, long accepted, long overridden) {}
        List<Row> rows = jdbc.query(
                """
                select c.service_id, c.rule_id, c.library_version, count(distinct c.card_uuid),
                       count(distinct case when f.outcome = 'accepted' then f.card_uuid end),
                       count(distinct case when f.outcome = 'overridden' then f.card_uuid end)
                from cds_issued_card c left join cds_feedback f on f.card_uuid = c.card_uuid
                group by c.service_id, c.rule_id, c.library_version""",
                (rs, i) -> new Row(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getLong(4),
                        rs.getLong(5),
                        rs.getLong(6)));
        java.util.Map<String, List<Row>> grouped = new java.util.TreeMap<>();
        rows.forEach(r -> grouped.computeIfAbsent(r.service() + "\u0000" + r.rule(), k -> new java.util.ArrayList<>())
                .add(r));
        List<ServiceRuleCounts> result = new java.util.ArrayList<>();
        for (List<Row> group : grouped.values()) {
            group.sort(java.util.Comparator.comparing(
                    Row::version, java.util.Comparator.nullsFirst(org.crlm.cds.rules.Versions.ORDER)));
            List<VersionCounts> versions = group.stream()
                    .map(r -> {
                        long answered = r.accepted() + r.overridden();
                        return new VersionCounts(
                                r.version(),
                                r.issued(),
                                r.accepted(),
                                r.overridden(),
                                answered == 0 ? null : (double) r.overridden() / answered);
                    })
                    .toList();
            result.add(
                    new ServiceRuleCounts(group.get(0).service(), group.get(0).rule(), versions));
        }
        return result;
    }

    public List<ReasonCount> overrideReasons() {
        return jdbc.query(
                """
                select rule_id, library_version, coalesce(override_reason_code, '(none)'), count(*)
                from cds_feedback where outcome = 'overridden'
                group by rule_id, library_version, coalesce(override_reason_code, '(none)')
                order by rule_id, library_version""",
                (rs, i) -> new ReasonCount(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4)));
    }
}
