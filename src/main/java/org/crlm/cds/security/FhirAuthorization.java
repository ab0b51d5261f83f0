package org.crlm.cds.security;

import java.util.List;
import java.util.Optional;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

/**
 * What the bearer token of the current FHIR request grants: its SMART clinical scopes, the
 * patient of a {@code patient/} launch, and the authoring and admin scopes. Read from Spring
 * Security's context (the token was verified by the resource server before HAPI runs).
 *
 * @param scopes    every scope string of the token
 * @param clinical  the SMART clinical scopes among them
 * @param patientId the token's {@code patient} claim (a bare id), if any
 */
public record FhirAuthorization(List<String> scopes, List<SmartScope> clinical, Optional<String> patientId) {

    private static final java.util.regex.Pattern ID = java.util.regex.Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

    /** The current request's grant; empty when the request carries no verified token. */
    public static Optional<FhirAuthorization> current() {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        List<String> scopes = SmartScopes.granted(authentication);
        if (scopes == null) {
            return Optional.empty();
        }
        Object claim =
                ((JwtAuthenticationToken) authentication).getToken().getClaims().get("patient");
        Optional<String> patient = Optional.empty();
        if (claim instanceof String s) {
            String id = s.startsWith("Patient/") ? s.substring("Patient/".length()) : s;
            // A malformed claim grants nothing rather than a compartment HAPI cannot match.
            patient = ID.matcher(id).matches() ? Optional.of(id) : Optional.empty();
        }
        return Optional.of(new FhirAuthorization(scopes, SmartScope.parseAll(scopes), patient));
    }

    public boolean has(String scope) {
        return scopes.contains(scope);
    }

    /** True when some scope lets the token read this type (or every type, for {@code *}) outside one patient's compartment. */
    public boolean readsAcrossPatients(String resourceType) {
        return clinical.stream()
                .anyMatch(s -> !s.patientContext()
                        && s.read()
                        && (resourceType == null ? s.anyType() : s.covers(resourceType)));
    }

    /** True when some scope lets the token read this type at all (in a compartment or not). */
    public boolean reads(String resourceType) {
        return clinical.stream()
                .anyMatch(s -> s.read() && s.covers(resourceType) && (!s.patientContext() || patientId.isPresent()));
    }

    /** True when some scope lets the token read every type. */
    public boolean readsEveryType() {
        return clinical.stream()
                .anyMatch(s -> s.read() && s.anyType() && (!s.patientContext() || patientId.isPresent()));
    }
}
