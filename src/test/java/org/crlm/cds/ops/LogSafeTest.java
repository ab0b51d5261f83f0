package org.crlm.cds.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A forged issuer or kid cannot add a log line of its own, nor flood one. */
class LogSafeTest {

    @Test
    void lineBreaksAndControlCharactersAreStripped() {
        String forged =
                "https://evil.example\n2026-01-01T00:00:00Z  INFO [] --- CDS client keys ready\r\u001b[31m\u2028x\u0000";
        String safe = LogSafe.of(forged);
        assertThat(safe).doesNotContain("\n", "\r", "\u001b", "\u2028", "\u0000");
        assertThat(safe).startsWith("https://evil.example2026-01-01");
    }

    @Test
    void longValuesAreCapped() {
        assertThat(LogSafe.of("k".repeat(10_000)))
                .hasSize(LogSafe.MAX_LENGTH + 3)
                .endsWith("...");
        assertThat(LogSafe.of("kid-1")).isEqualTo("kid-1");
        assertThat(LogSafe.of(null)).isNull();
    }
}
