package org.crlm.cds.security;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One issuer's public keys: a JWKS fetched from a URL (cached, re-fetched for an unknown kid
 * at most once per refetch interval, no redirects, size- and time-bounded), a file, or inline.
 */
final class KeySource {

    private static final Logger log = LoggerFactory.getLogger(KeySource.class);
    private static final int MAX_JWKS_BYTES = 256 * 1024;

    private final String url;
    private final Path file;
    private final Duration ttl;
    private final Duration refetchInterval;
    private final HttpClient client;
    private final Clock clock;
    private volatile JWKSet keys;
    private volatile Instant fetchedAt = Instant.EPOCH;

    private KeySource(String url, Path file, JWKSet keys, Duration ttl, Duration refetchInterval, HttpClient client, Clock clock) {
        this.url = url;
        this.file = file;
        this.keys = keys;
        this.ttl = ttl;
        this.refetchInterval = refetchInterval;
        this.client = client;
        this.clock = clock;
    }

    static KeySource inline(String jwks) {
        try {
            return new KeySource(null, null, JWKSet.parse(jwks), null, null, null, Clock.systemUTC());
        } catch (java.text.ParseException e) {
            throw new IllegalArgumentException("An inline JWKS is not a valid JWK Set: " + e.getMessage());
        }
    }

    static KeySource file(Path file, Duration refetchInterval) {
        KeySource source = new KeySource(null, file, null, null, refetchInterval, null, Clock.systemUTC());
        source.keys = source.readFile();
        source.fetchedAt = Instant.now();
        return source;
    }

    static KeySource url(String url, Duration ttl, Duration refetchInterval, HttpClient client) {
        return new KeySource(url, null, null, ttl, refetchInterval, client, Clock.systemUTC());
    }

    /** Fetches a URL source's keys now (at start-up), so the first call does not wait for them. */
    void preload() {
        if (url != null && keys == null) {
            refresh();
        }
    }

    /** The keys held now (none when a fetch has not succeeded yet). */
    List<JWK> currentKeys() {
        JWKSet current = keys;
        return current == null ? List.of() : current.getKeys();
    }

    /** The key with this kid; fetches or re-reads the JWKS when the kid is unknown, rate-limited. */
    Optional<JWK> key(String kid) {
        JWKSet current = keys;
        if (url != null && (current == null || Instant.now(clock).isAfter(fetchedAt.plus(ttl)))) {
            current = refresh();
        }
        JWK key = current == null ? null : current.getKeyByKeyId(kid);
        if (key == null && (url != null || file != null) && Instant.now(clock).isAfter(fetchedAt.plus(refetchInterval))) {
            current = refresh();
            key = current == null ? null : current.getKeyByKeyId(kid);
        }
        return Optional.ofNullable(key);
    }

    private synchronized JWKSet refresh() {
        try {
            keys = file != null ? readFile() : fetch();
        } catch (RuntimeException e) {
            log.warn("Could not refresh the JWKS from {}: {}", url != null ? url : file, e.getMessage());
        }
        fetchedAt = Instant.now(clock);
        return keys;
    }

    private JWKSet readFile() {
        try {
            return JWKSet.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (java.io.IOException | java.text.ParseException e) {
            throw new IllegalArgumentException("Cannot read the JWKS file " + file + ": " + e.getMessage());
        }
    }

    private JWKSet fetch() {
        try {
            HttpResponse<InputStream> response = client.send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(5)).header("Accept", "application/json").GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = response.body()) {
                byte[] body = in.readNBytes(MAX_JWKS_BYTES + 1);
                if (response.statusCode() != 200) {
                    throw new IllegalStateException("HTTP " + response.statusCode());
                }
                if (body.length > MAX_JWKS_BYTES) {
                    throw new IllegalStateException("JWKS larger than " + MAX_JWKS_BYTES + " bytes");
                }
                return JWKSet.parse(new String(body, StandardCharsets.UTF_8));
            }
        } catch (java.io.IOException | java.text.ParseException e) {
            throw new IllegalStateException(e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }
}
