package org.crlm.cds.security;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * Decides whether a client-supplied fhirServer may be called. Only exact, configured base
 * URLs pass: no other hosts (so no loopback, link-local or private addresses that are not
 * listed), no other schemes, no user info, https unless configured otherwise. Checked before
 * any connection is attempted; the access token is only ever sent to a URL that passes.
 */
@Component
public class OutboundFhirPolicy {

    private final List<String> allowed;
    private final boolean requireHttps;

    public OutboundFhirPolicy(OutboundProperties properties) {
        this.allowed = properties.allowedFhirServers().stream()
                .map(OutboundFhirPolicy::normalise)
                .toList();
        this.requireHttps = properties.requireHttps();
    }

    /** Empty when allowed; otherwise why not (safe to show the client: it names only their own input). */
    public Optional<String> refusal(String fhirServer) {
        URI uri;
        try {
            uri = URI.create(fhirServer);
        } catch (IllegalArgumentException e) {
            return Optional.of("fhirServer is not a valid URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http")) {
            return Optional.of("fhirServer must use https");
        }
        if (requireHttps && !scheme.equals("https")) {
            return Optional.of("fhirServer must use https");
        }
        if (uri.getUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            return Optional.of("fhirServer must be a plain base URL");
        }
        if (!allowed.contains(normalise(fhirServer))) {
            return Optional.of("fhirServer is not on this service's allow-list");
        }
        return Optional.empty();
    }

    /** True when {@code url} (for example a search's next link) lies under an allowed base. */
    public boolean isUnder(String fhirServer, String url) {
        if (url == null || refusal(fhirServer).isPresent()) {
            return false;
        }
        String base = normalise(fhirServer);
        String candidate = normalise(url);
        try {
            if (URI.create(url).getUserInfo() != null) {
                return false;
            }
        } catch (IllegalArgumentException e) {
            return false;
        }
        return candidate.equals(base) || candidate.startsWith(base + "/") || candidate.startsWith(base + "?");
    }

    static String normalise(String url) {
        String s = url.trim();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        int schemeEnd = s.indexOf("://");
        if (schemeEnd > 0) {
            int hostEnd = s.indexOf('/', schemeEnd + 3);
            String head = (hostEnd < 0 ? s : s.substring(0, hostEnd)).toLowerCase(Locale.ROOT);
            s = head + (hostEnd < 0 ? "" : s.substring(hostEnd));
        }
        return s;
    }
}
