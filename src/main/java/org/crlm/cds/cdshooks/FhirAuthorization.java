package org.crlm.cds.cdshooks;

/**
 * The OAuth2 token the EHR grants for its FHIR server. Transient: never stored or logged.
 */
public record FhirAuthorization(
        String accessToken, String tokenType, Long expiresIn, String scope, String subject, String patient) {

    @Override
    public String toString() {
        return "FhirAuthorization[tokenType=" + tokenType + ", scope=" + scope + ", subject=" + subject
                + ", accessToken=<redacted>]";
    }
}
