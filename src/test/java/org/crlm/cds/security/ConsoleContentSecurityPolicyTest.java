package org.crlm.cds.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.ClassPathResource;

/**
 * The console's policy as built from the page that ships: only this origin, no inline script
 * except the import map (by its hash), no eval, nothing framed; and a page that needs nothing more.
 */
class ConsoleContentSecurityPolicyTest {

    @Test
    void theShippedPageGetsAStrictPolicyThatAllowsOnlyItsImportMap() throws Exception {
        String page = new String(
                new ClassPathResource(ConsoleContentSecurityPolicy.PAGE)
                        .getInputStream()
                        .readAllBytes(),
                StandardCharsets.UTF_8);
        String importMap = page.substring(
                page.indexOf("<script type=\"importmap\">") + "<script type=\"importmap\">".length(),
                page.indexOf("</script>", page.indexOf("<script type=\"importmap\">")));
        String hash = Base64.getEncoder()
                .encodeToString(
                        MessageDigest.getInstance("SHA-256").digest(importMap.getBytes(StandardCharsets.UTF_8)));

        String policy = ConsoleContentSecurityPolicy.forConsolePage().header();

        assertThat(policy.split("; "))
                .contains(
                        "default-src 'self'",
                        "script-src 'self' 'sha256-" + hash + "'",
                        "object-src 'none'",
                        "base-uri 'none'",
                        "frame-ancestors 'none'");
        assertThat(policy).doesNotContain("unsafe-inline", "unsafe-eval", "*", "data:");
        // The page itself: no inline handlers, styles or javascript: URLs that the policy would refuse.
        assertThat(page)
                .doesNotContainPattern("(?i)\\son[a-z]+\\s*=")
                .doesNotContainPattern("(?i)\\sstyle\\s*=")
                .doesNotContainIgnoringCase("javascript:");
    }

    @Test
    void everyInlineScriptIsAllowedByItsOwnHashAndScriptsFromFilesNeedNone() {
        String policy = ConsoleContentSecurityPolicy.forPage(
                        """
                <script type="importmap">{"imports": {}}</script>
                <script src="a.js"></script>
                <script type="module" src="b.js"></script>
                """)
                .header();

        assertThat(policy).contains("script-src 'self' 'sha256-").containsOnlyOnce("sha256-");
    }
}
