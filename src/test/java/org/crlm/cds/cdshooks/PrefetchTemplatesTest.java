package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Prefetch tokens as CDS Hooks 2.0 defines them. */
class PrefetchTemplatesTest {

    private static HookContext context(String userId, String encounterId) {
        return new HookContext(userId, "p-1", encounterId, List.of(), null);
    }

    @Test
    void contextAndUserTokensAreFilled() {
        HookContext practitioner = context("Practitioner/dr-7", "enc-3");
        assertThat(PrefetchTemplates.substitute(
                        "Observation?patient={{context.patientId}}&encounter={{context.encounterId}}", practitioner))
                .contains("Observation?patient=p-1&encounter=enc-3");
        assertThat(PrefetchTemplates.substitute("{{context.userId}}", practitioner))
                .contains("Practitioner/dr-7");
        assertThat(PrefetchTemplates.substitute("Practitioner/{{userPractitionerId}}", practitioner))
                .contains("Practitioner/dr-7");
        assertThat(PrefetchTemplates.substitute(
                        "PractitionerRole/{{userPractitionerRoleId}}", context("PractitionerRole/r-1", null)))
                .contains("PractitionerRole/r-1");
        assertThat(PrefetchTemplates.substitute("Patient/{{userPatientId}}", context("Patient/p-9", null)))
                .contains("Patient/p-9");
        assertThat(PrefetchTemplates.substitute(
                        "RelatedPerson/{{ userRelatedPersonId }}", context("RelatedPerson/rp-2", null)))
                .contains("RelatedPerson/rp-2");
    }

    @Test
    void aTokenWithoutAValueMeansTheKeyCannotBeFetched() {
        assertThat(PrefetchTemplates.substitute(
                        "Encounter/{{context.encounterId}}", context("Practitioner/dr-7", null)))
                .isEmpty();
        assertThat(PrefetchTemplates.substitute(
                        "Practitioner/{{userPractitionerId}}", context("PractitionerRole/r-1", null)))
                .isEmpty();
        assertThat(PrefetchTemplates.substitute(
                        "Patient/{{context.medication.id}}", context("Practitioner/dr-7", null)))
                .isEmpty();
    }
}
