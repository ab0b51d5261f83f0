package org.crlm.cds.rules;

import java.util.Optional;

/**
 * Translated ELM kept across restarts, so that a restart with unchanged CQL translates nothing.
 * Each entry is found by a key that hashes the CQL text (and the keys of the libraries it
 * includes), the translator's version and its options, and also holds the SHA-256 of the CQL
 * text it was translated from: ELM is only ever served for the exact CQL it came from.
 */
public interface TranslatedElmStore {

    /** One stored translation: the ELM (JSON) and the translator's warnings, one per line. */
    record Entry(String cqlSha256, String elmJson, String warnings) {}

    Optional<Entry> find(String key);

    void save(String key, String libraryName, String libraryVersion, Entry entry);

    /** Keeps nothing: every compiler translates afresh after a restart. */
    TranslatedElmStore NONE = new TranslatedElmStore() {
        @Override
        public Optional<Entry> find(String key) {
            return Optional.empty();
        }

        @Override
        public void save(String key, String libraryName, String libraryVersion, Entry entry) {}
    };
}
