package org.crlm.cds.rules;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.ValueSet;
import org.junit.jupiter.api.Test;
import org.opencds.cqf.cql.engine.runtime.Code;

/**
 * A decision answers each retrieve once and reuses the answer: the reuse must give exactly what
 * a fresh filter gives (same resources, record order, this patient's only), whatever the caller
 * does with an earlier answer.
 */
class PatientDataRetrieveProviderTest {

    private static final String TUMOR_SIZE = "http://example.org/ValueSet/tumor-size";

    private final ValueSetTerminology terminology = new ValueSetTerminology(
            List.of(new ValueSet()
                    .setUrl(TUMOR_SIZE)
                    .setCompose(new ValueSet.ValueSetComposeComponent()
                            .addInclude(new ValueSet.ConceptSetComponent()
                                    .setSystem("http://loinc.org")
                                    .addConcept(new ValueSet.ConceptReferenceComponent().setCode("21889-1"))))),
            List.of());

    @Test
    void aRepeatedRetrieveGivesTheSameMeasurementsOfThisPatientInRecordOrder() {
        Observation first = observation("o1", "Patient/p1", "21889-1");
        Observation otherPatient = observation("o2", "Patient/p2", "21889-1");
        Observation kras = observation("o3", "Patient/p1", "21702-6");
        Observation versioned = observation("o4", "http://ehr.example/fhir/Patient/p1/_history/2", "21889-1");
        Observation noSubject = observation("o5", null, "21889-1");
        PatientDataRetrieveProvider provider = provider(List.of(first, otherPatient, kras, versioned, noSubject));

        List<Object> sizes = retrieve(provider, null, TUMOR_SIZE);
        assertThat(sizes).containsExactly(first, versioned, noSubject);

        sizes.clear(); // the engine owns each answer; changing it must not change the next one
        assertThat(retrieve(provider, null, TUMOR_SIZE)).containsExactly(first, versioned, noSubject);

        assertThat(retrieve(
                        provider,
                        List.of(new Code().withSystem("http://loinc.org").withCode("21702-6")),
                        null))
                .containsExactly(kras);
        assertThat(retrieve(provider, List.of(new Code().withCode("21889-1")), null))
                .as("a code without a system matches any system")
                .containsExactly(first, versioned, noSubject);
        assertThat(retrieve(provider, null, null)).containsExactly(first, kras, versioned, noSubject);
    }

    private PatientDataRetrieveProvider provider(List<IBaseResource> resources) {
        return new PatientDataRetrieveProvider(
                new PatientData("p1", resources), new FastR4ModelResolver(FhirContext.forR4Cached()), terminology);
    }

    private static List<Object> retrieve(PatientDataRetrieveProvider provider, List<Code> codes, String valueSet) {
        List<Object> result = new ArrayList<>();
        provider.retrieve(
                        "Patient",
                        "subject",
                        "p1",
                        "Observation",
                        null,
                        codes == null && valueSet == null ? null : "code",
                        codes,
                        valueSet,
                        null,
                        null,
                        null,
                        null)
                .forEach(result::add);
        return result;
    }

    private static Observation observation(String id, String subject, String loinc) {
        Observation o = new Observation();
        o.setId(id);
        if (subject != null) {
            o.setSubject(new Reference(subject));
        }
        o.setCode(new CodeableConcept(new Coding("http://loinc.org", loinc, null)));
        return o;
    }
}
