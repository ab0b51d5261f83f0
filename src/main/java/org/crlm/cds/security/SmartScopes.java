package org.crlm.cds.security;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SMART on FHIR scope checks, v1 ({@code user/Observation.read}, {@code system/*.write}) and
 * v2 ({@code user/Observation.rs}, {@code system/*.cruds}) syntax.
 */
public final class SmartScopes {

    /** Resource types whose writes publish rules: they need the authoring scope. */
    public static final Set<String> KNOWLEDGE_TYPES =
            Set.of("Library", "PlanDefinition", "ActivityDefinition", "ValueSet", "ConceptMap", "CodeSystem");

    private static final Pattern SCOPE = Pattern.compile("(patient|user|system)/([A-Za-z]+|\\*)\\.([a-z*]+)");

    private SmartScopes() {}

    /** The scopes granted by an OAuth2 bearer token ({@code scope} string or {@code scp} list); null when not a token. */
    public static java.util.List<String> granted(org.springframework.security.core.Authentication authentication) {
        if (!(authentication
                        instanceof
                        org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken
                        token)
                || !token.isAuthenticated()) {
            return null;
        }
        Object scope = token.getToken().getClaims().get("scope");
        Object scp = token.getToken().getClaims().get("scp");
        java.util.List<String> scopes = new java.util.ArrayList<>();
        if (scope instanceof String s) {
            scopes.addAll(java.util.List.of(s.trim().split("\\s+")));
        }
        if (scp instanceof Collection<?> list) {
            list.forEach(x -> scopes.add(String.valueOf(x)));
        }
        return scopes;
    }

    public static boolean canRead(Collection<String> scopes, String resourceType) {
        return matches(scopes, resourceType, List.of("read", "*"), "rs");
    }

    public static boolean canWrite(Collection<String> scopes, String resourceType) {
        return matches(scopes, resourceType, List.of("write", "*"), "cud");
    }

    private static boolean matches(Collection<String> scopes, String resourceType, List<String> v1, String v2Letters) {
        for (String scope : scopes) {
            Matcher m = SCOPE.matcher(scope);
            if (!m.matches()) {
                continue;
            }
            String type = m.group(2);
            if (!type.equals("*") && !type.equals(resourceType)) {
                continue;
            }
            String permission = m.group(3);
            if (v1.contains(permission)) {
                return true;
            }
            if (permission.matches("c?r?u?d?s?") && !permission.isEmpty()) {
                for (char c : v2Letters.toCharArray()) {
                    if (permission.indexOf(c) >= 0) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
