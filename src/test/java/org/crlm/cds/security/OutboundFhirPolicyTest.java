package org.crlm.cds.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Only exact, allow-listed https base URLs are ever called. */
class OutboundFhirPolicyTest {

    private final OutboundFhirPolicy policy =
            new OutboundFhirPolicy(new OutboundProperties(List.of("https://EHR.example.org/fhir/r4/"), true));

    @Test
    void theListedServerPassesWhateverTheCaseOfItsHostOrATrailingSlash() {
        assertThat(policy.refusal("https://ehr.example.org/fhir/r4")).isEmpty();
        assertThat(policy.refusal("https://ehr.example.org/fhir/r4/")).isEmpty();
    }

    @Test
    void everythingElseIsRefused() {
        for (String url : List.of(
                "https://ehr.example.org/fhir",
                "https://ehr.example.org/fhir/r4x",
                "http://ehr.example.org/fhir/r4",
                "https://evil.example/fhir/r4",
                "http://169.254.169.254/latest",
                "https://127.0.0.1/fhir",
                "https://10.1.2.3/fhir/r4",
                "file:///etc/passwd",
                "ftp://ehr.example.org/fhir/r4",
                "https://user:pw@ehr.example.org/fhir/r4",
                "https://ehr.example.org/fhir/r4?x=1",
                "::not a url::")) {
            assertThat(policy.refusal(url)).as(url).isPresent();
        }
    }

    @Test
    void nextLinksMustStayUnderTheListedBase() {
        assertThat(policy.isUnder("https://ehr.example.org/fhir/r4", "https://ehr.example.org/fhir/r4?_getpages=abc"))
                .isTrue();
        assertThat(policy.isUnder(
                        "https://ehr.example.org/fhir/r4", "https://ehr.example.org/fhir/r4/Observation?page=2"))
                .isTrue();
        assertThat(policy.isUnder("https://ehr.example.org/fhir/r4", "https://evil.example/fhir/r4?page=2"))
                .isFalse();
        assertThat(policy.isUnder("https://ehr.example.org/fhir/r4", "https://ehr.example.org/fhir/r4.evil.example/x"))
                .isFalse();
    }
}
