package org.crlm.cds.knowledge;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import org.crlm.cds.rules.TranslatedElmStore;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The CQL translations kept in the database (table cds_translated_elm), shared by every node:
 * a restart, or a node joining, with unchanged CQL reads the ELM instead of translating.
 */
@Component
public class DatabaseTranslatedElm implements TranslatedElmStore {

    private final JdbcTemplate jdbc;

    public DatabaseTranslatedElm(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @Override
    public Optional<Entry> find(String key) {
        return jdbc
                .query(
                        "select cql_sha256, elm_json, warnings from cds_translated_elm where elm_key = ?",
                        (rs, row) -> new Entry(rs.getString(1), rs.getString(2), rs.getString(3)),
                        key)
                .stream()
                .findFirst();
    }

    @Override
    public void save(String key, String libraryName, String libraryVersion, Entry entry) {
        try {
            jdbc.update(
                    "insert into cds_translated_elm"
                            + " (elm_key, library_name, library_version, cql_sha256, elm_json, warnings, created_at)"
                            + " values (?, ?, ?, ?, ?, ?, ?)",
                    key,
                    libraryName,
                    libraryVersion,
                    entry.cqlSha256(),
                    entry.elmJson(),
                    entry.warnings(),
                    Timestamp.from(Instant.now()));
        } catch (DuplicateKeyException alreadyKept) {
            // Another node (or an earlier compile) kept the same translation: same key, same text.
        }
    }
}
