package org.crlm.cds.security;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One SMART on FHIR clinical scope, v1 ({@code patient/Observation.read}, {@code user/*.write},
 * {@code system/*.*}) or v2 ({@code patient/Observation.rs}, {@code user/*.cruds}). v2 read and
 * search ({@code r}, {@code s}) both grant reading: HAPI's read rules cover reads and searches alike.
 *
 * @param context      {@code patient}, {@code user} or {@code system}
 * @param resourceType a FHIR resource type, or {@code *}
 */
public record SmartScope(
        String context, String resourceType, boolean read, boolean create, boolean update, boolean delete) {

    private static final Pattern SCOPE =
            Pattern.compile("(patient|user|system)/([A-Z][A-Za-z]{0,63}|\\*)\\.(read|write|\\*|c?r?u?d?s?)");

    public static Optional<SmartScope> parse(String scope) {
        Matcher m = SCOPE.matcher(scope);
        if (!m.matches() || m.group(3).isEmpty()) {
            return Optional.empty();
        }
        String p = m.group(3);
        boolean all = p.equals("*");
        boolean v1Read = p.equals("read");
        boolean v1Write = p.equals("write");
        boolean v2 = !all && !v1Read && !v1Write;
        return Optional.of(new SmartScope(
                m.group(1),
                m.group(2),
                all || v1Read || (v2 && (p.contains("r") || p.contains("s"))),
                all || v1Write || (v2 && p.contains("c")),
                all || v1Write || (v2 && p.contains("u")),
                all || v1Write || (v2 && p.contains("d"))));
    }

    /** The clinical scopes among these; other scopes (openid, launch, crlm/...) are left out. */
    public static List<SmartScope> parseAll(Collection<String> scopes) {
        List<SmartScope> parsed = new ArrayList<>();
        for (String s : scopes) {
            parse(s).ifPresent(parsed::add);
        }
        return parsed;
    }

    public boolean patientContext() {
        return context.equals("patient");
    }

    public boolean anyType() {
        return resourceType.equals("*");
    }

    public boolean covers(String type) {
        return anyType() || resourceType.equals(type);
    }

    public boolean write() {
        return create || update || delete;
    }
}
