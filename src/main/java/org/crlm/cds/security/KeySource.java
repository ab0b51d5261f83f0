package org.crlm.cds.security;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JWK Set a CDS client's tokens are verified with: fetched from a URL, read from a file,
 * or given inline. Keys rotate, so a held set is not trusted forever:
 * <ul>
 *   <li>a URL is fetched again when its HTTP caching lifetime ({@code Cache-Control: max-age},
 *       {@code no-cache}/{@code no-store}) runs out, clamped to the configured bounds, or after
 *       the default lifetime when the response states none (no redirects, size- and time-bounded);</li>
 *   <li>a file is re-read when its modification time or size changes, checked at most once per
 *       check interval;</li>
 *   <li>an unknown kid triggers one early re-read, at most once per refetch interval (a key
 *       added by rotation works at once).</li>
 * </ul>
 * A failed fetch or read keeps the last good set and is retried after the shortest lifetime.
 */
final class KeySource {

    private static final Logger log = LoggerFactory.getLogger(KeySource.class);
    private static final int MAX_JWKS_BYTES = 256 * 1024;

    /** How long held keys may be used before they are fetched or checked again. */
    record Freshness(
            Duration defaultTtl,
            Duration minTtl,
            Duration maxTtl,
            Duration fileCheckInterval,
            Duration refetchInterval) {

        static Freshness of(CdsClientProperties properties) {
            return new Freshness(
                    properties.keyCacheTtl(),
                    properties.keyCacheMinTtl(),
                    properties.keyCacheMaxTtl(),
                    properties.keyFileCheckInterval(),
                    properties.keyRefetchInterval());
        }

        Duration clamp(Duration ttl) {
            if (ttl.compareTo(minTtl) < 0) {
                return minTtl;
            }
            return ttl.compareTo(maxTtl) > 0 ? maxTtl : ttl;
        }
    }

    private final String url;
    private final Path file;
    private final Freshness freshness;
    private final HttpClient client;
    private final Clock clock;
    private volatile JWKSet keys;
    /** When the set was last fetched or read (bounds the unknown-kid re-read rate). */
    private volatile Instant loadedAt = Instant.EPOCH;
    /** URL: when the held set expires. File: when the file is next checked for a change. */
    private volatile Instant recheckAt = Instant.EPOCH;

    private volatile String fileStamp;

    private KeySource(String url, Path file, JWKSet keys, Freshness freshness, HttpClient client, Clock clock) {
        this.url = url;
        this.file = file;
        this.keys = keys;
        this.freshness = freshness;
        this.client = client;
        this.clock = clock;
    }

    static KeySource inline(String jwks) {
        return new KeySource(null, null, parseInline(jwks), null, null, Clock.systemUTC());
    }

    static JWKSet parseInline(String jwks) {
        try {
            return JWKSet.parse(jwks);
        } catch (java.text.ParseException e) {
            throw new IllegalArgumentException("the inline JWKS is not a valid JWK Set: " + e.getMessage());
        }
    }

    static KeySource file(Path file, Freshness freshness, Clock clock) {
        KeySource source = new KeySource(null, file, null, freshness, null, clock);
        source.keys = readFile(file);
        source.fileStamp = stamp(file);
        source.loadedAt = Instant.now(clock);
        source.recheckAt = source.loadedAt.plus(freshness.fileCheckInterval());
        return source;
    }

    static KeySource url(String url, Freshness freshness, HttpClient client, Clock clock) {
        return new KeySource(url, null, null, freshness, client, clock);
    }

    /** Fetches a URL source's keys now (at start-up), so the first call does not wait for them. */
    void preload() {
        if (url != null && keys == null) {
            refresh(false);
        }
    }

    /** The keys held now (none when a fetch has not succeeded yet). */
    List<JWK> currentKeys() {
        JWKSet current = keys;
        return current == null ? List.of() : current.getKeys();
    }

    /** The key with this kid, after bringing the set up to date; an unknown kid forces one early re-read, rate-limited. */
    Optional<JWK> key(String kid) {
        if (url == null && file == null) {
            return Optional.ofNullable(keys.getKeyByKeyId(kid));
        }
        Instant now = Instant.now(clock);
        if (due(now, false)) {
            refresh(false);
        }
        JWKSet current = keys;
        JWK key = current == null ? null : current.getKeyByKeyId(kid);
        if (key == null && due(now, true)) {
            current = refresh(true);
            key = current == null ? null : current.getKeyByKeyId(kid);
        }
        return Optional.ofNullable(key);
    }

    /** Whether the set should be fetched or checked now; a missing set or an unknown kid at most once per refetch interval. */
    private boolean due(Instant now, boolean unknownKid) {
        if (unknownKid || keys == null) {
            return now.isAfter(loadedAt.plus(freshness.refetchInterval()));
        }
        return !now.isBefore(recheckAt);
    }

    private synchronized JWKSet refresh(boolean unknownKid) {
        Instant now = Instant.now(clock);
        if (!due(now, unknownKid)) {
            return keys; // another thread refreshed while this one waited
        }
        try {
            if (file != null) {
                String stamp = stamp(file);
                if (unknownKid || !stamp.equals(fileStamp)) {
                    keys = readFile(file);
                    fileStamp = stamp;
                }
                loadedAt = now;
                recheckAt = now.plus(freshness.fileCheckInterval());
            } else {
                HttpResponse<InputStream> response = send();
                keys = body(response);
                loadedAt = now;
                recheckAt = now.plus(freshness.clamp(lifetime(response).orElse(freshness.defaultTtl())));
            }
        } catch (RuntimeException e) {
            log.warn(
                    "Could not refresh the JWKS from {}: {} (the last keys read stay in use)",
                    url != null ? url : file,
                    e.getMessage());
            loadedAt = now;
            recheckAt = now.plus(freshness.minTtl());
        }
        return keys;
    }

    private static JWKSet readFile(Path file) {
        try {
            return JWKSet.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException | java.text.ParseException e) {
            throw new IllegalArgumentException("cannot read the JWKS file " + file + ": " + e.getMessage());
        }
    }

    private static String stamp(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return attributes.lastModifiedTime().toMillis() + ":" + attributes.size() + ":" + attributes.fileKey();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the JWKS file " + file + ": " + e.getMessage());
        }
    }

    private HttpResponse<InputStream> send() {
        try {
            return client.send(
                    HttpRequest.newBuilder(URI.create(url))
                            .timeout(Duration.ofSeconds(5))
                            .header("Accept", "application/json")
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new IllegalStateException(e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    private static JWKSet body(HttpResponse<InputStream> response) {
        try (InputStream in = response.body()) {
            byte[] body = in.readNBytes(MAX_JWKS_BYTES + 1);
            if (response.statusCode() != 200) {
                throw new IllegalStateException("HTTP " + response.statusCode());
            }
            if (body.length > MAX_JWKS_BYTES) {
                throw new IllegalStateException("JWKS larger than " + MAX_JWKS_BYTES + " bytes");
            }
            return JWKSet.parse(new String(body, StandardCharsets.UTF_8));
        } catch (IOException | java.text.ParseException e) {
            throw new IllegalStateException(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** The lifetime the response's Cache-Control states: max-age, or zero for no-cache/no-store; empty when it states none. */
    static Optional<Duration> lifetime(HttpResponse<?> response) {
        Optional<Duration> found = Optional.empty();
        for (String header : response.headers().allValues("Cache-Control")) {
            for (String directive : header.split(",")) {
                String d = directive.trim().toLowerCase(Locale.ROOT);
                if (d.equals("no-store") || d.equals("no-cache")) {
                    return Optional.of(Duration.ZERO);
                }
                if (d.startsWith("max-age=")) {
                    try {
                        found = Optional.of(Duration.ofSeconds(
                                Long.parseLong(d.substring(8).replace("\"", "").trim())));
                    } catch (NumberFormatException e) {
                        // a malformed max-age states nothing
                    }
                }
            }
        }
        return found;
    }
}
