package org.crlm.cds.security;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.core.io.ClassPathResource;

/**
 * The Content-Security-Policy of the authoring console page and the webjars it loads: scripts,
 * styles, images and fetches from this origin only, no inline script or style, no eval, no
 * plugins, no framing, no base element. The one inline element the page needs, its import map
 * (browsers do not load an import map from a file), is allowed by its SHA-256, computed here
 * from the page as shipped, so editing the map cannot silently break the editor or widen the policy.
 */
public record ConsoleContentSecurityPolicy(String header) {

    static final String PAGE = "static/console/index.html";
    private static final Pattern INLINE_SCRIPT =
            Pattern.compile("<script(?![^>]*\\ssrc=)[^>]*>(.*?)</script>", Pattern.DOTALL | Pattern.CASE_INSENSITIVE);

    public static ConsoleContentSecurityPolicy forConsolePage() {
        try (InputStream in = new ClassPathResource(PAGE).getInputStream()) {
            return forPage(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + PAGE, e);
        }
    }

    static ConsoleContentSecurityPolicy forPage(String html) {
        List<String> scriptSources = new ArrayList<>(List.of("'self'"));
        Matcher inline = INLINE_SCRIPT.matcher(html);
        while (inline.find()) {
            scriptSources.add("'sha256-" + sha256(inline.group(1)) + "'");
        }
        return new ConsoleContentSecurityPolicy(String.join(
                "; ",
                "default-src 'self'",
                "script-src " + String.join(" ", scriptSources),
                "style-src 'self'",
                "img-src 'self'",
                "connect-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'"));
    }

    private static String sha256(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
