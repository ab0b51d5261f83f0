package org.crlm.cds.security;

import java.sql.Timestamp;
import java.time.Instant;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Remembers each accepted JWT (issuer and jti) until it expires, in the shared database, so a
 * token replayed to any node is refused. The insert is the only write on the request path
 * that security requires.
 */
@Component
public class JtiReplayStore {

    private final JdbcTemplate jdbc;

    public JtiReplayStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** True the first time this (issuer, jti) is seen; false for a replay. */
    public boolean firstUse(String issuer, String jti, Instant expiresAt) {
        String key = issuer.length() + ":" + issuer + "|" + jti;
        if (key.length() > 400) {
            return false;
        }
        try {
            jdbc.update(
                    "insert into cds_jwt_replay (token_key, expires_at) values (?, ?)", key, Timestamp.from(expiresAt));
            return true;
        } catch (DuplicateKeyException e) {
            return false;
        }
    }

    public boolean seen(String issuer, String jti) {
        Integer n = jdbc.queryForObject(
                "select count(*) from cds_jwt_replay where token_key = ?",
                Integer.class,
                issuer.length() + ":" + issuer + "|" + jti);
        return n != null && n > 0;
    }

    @Scheduled(fixedDelayString = "PT5M")
    public void forgetExpired() {
        jdbc.update("delete from cds_jwt_replay where expires_at < ?", Timestamp.from(Instant.now()));
    }
}
