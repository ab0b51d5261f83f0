package org.crlm.cds.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.hl7.fhir.r4.model.ValueSet;
import org.junit.jupiter.api.Test;
import org.opencds.cqf.cql.engine.runtime.Code;
import org.opencds.cqf.cql.engine.terminology.ValueSetInfo;

/** ValueSet compose filters the project can evaluate honestly, and the ones it refuses. */
class ValueSetTerminologyFilterTest {

    private static final String ICD10 = "http://hl7.org/fhir/sid/icd-10";
    private static final String ICD10_GM = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";

    private static ValueSet valueSet(String url, String system, String property, String op, String value) {
        ValueSet vs = new ValueSet().setUrl(url);
        vs.getCompose()
                .addInclude()
                .setSystem(system)
                .addFilter()
                .setProperty(property)
                .setOp(ValueSet.FilterOperator.fromCode(op))
                .setValue(value);
        return vs;
    }

    private static boolean in(ValueSetTerminology t, String url, String system, String code) {
        return t.in(new Code().withSystem(system).withCode(code), new ValueSetInfo().withId(url));
    }

    @Test
    void anIcd10CategoryIncludesEverySubCodeOfItsOwnSystemOnly() {
        ValueSetTerminology t =
                new ValueSetTerminology(List.of(valueSet("urn:colon", ICD10_GM, "concept", "is-a", "C18")), List.of());
        assertThat(in(t, "urn:colon", ICD10_GM, "C18")).isTrue();
        assertThat(in(t, "urn:colon", ICD10_GM, "C18.7")).isTrue();
        assertThat(in(t, "urn:colon", ICD10_GM, "C187")).isTrue();
        assertThat(in(t, "urn:colon", ICD10_GM, "C19")).isFalse();
        assertThat(in(t, "urn:colon", ICD10_GM, "C1")).isFalse();
        assertThat(in(t, "urn:colon", ICD10, "C18.7")).as("another system").isFalse();
        assertThat(t.isEnumerable("urn:colon")).isFalse();
    }

    @Test
    void aRegexOnTheCodeWorksForAnySystem() {
        ValueSetTerminology t = new ValueSetTerminology(
                List.of(valueSet("urn:c", ICD10, "code", "regex", "C(1[89]|20)(\\..*)?")), List.of());
        assertThat(in(t, "urn:c", ICD10, "C20")).isTrue();
        assertThat(in(t, "urn:c", ICD10, "C21.8")).isFalse();
    }

    @Test
    void aSnomedHierarchyWithoutASnomedReleaseIsRefusedNotIgnored() {
        assertThatThrownBy(() -> new ValueSetTerminology(
                        List.of(valueSet("urn:snomed", "http://snomed.info/sct", "concept", "is-a", "363346000")),
                        List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot be evaluated");
    }
}
