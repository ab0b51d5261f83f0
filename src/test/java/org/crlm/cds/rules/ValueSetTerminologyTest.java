package org.crlm.cds.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hl7.fhir.r4.model.ConceptMap;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.ValueSet;
import org.junit.jupiter.api.Test;
import org.opencds.cqf.cql.engine.runtime.Code;
import org.opencds.cqf.cql.engine.terminology.ValueSetInfo;

/** The terminology the rules see: ValueSet membership, included ValueSets, and local codes mapped by ConceptMaps. */
class ValueSetTerminologyTest {

    private static final String HGNC = "http://www.genenames.org/geneId";
    private static final String KRAS = "http://crlm-cds.org/fhir/ValueSet/kras-gene-test";
    private static final String GENES = "http://crlm-cds.org/fhir/ValueSet/ras-genes-test";

    private final ValueSetTerminology terminology =
            new ValueSetTerminology(List.of(krasGene(), rasGenes()), List.of(localLabCodes()));

    private static ValueSet krasGene() {
        ValueSet vs = new ValueSet().setUrl(KRAS);
        vs.getCompose()
                .addInclude()
                .setSystem(HGNC)
                .addConcept()
                .setCode("HGNC:6407")
                .setDisplay("KRAS");
        return vs;
    }

    private static ValueSet rasGenes() {
        ValueSet vs = new ValueSet().setUrl(GENES);
        vs.getCompose().addInclude().addValueSet(KRAS);
        vs.getCompose()
                .addInclude()
                .setSystem(HGNC)
                .addConcept()
                .setCode("HGNC:7989")
                .setDisplay("NRAS");
        return vs;
    }

    /** A site's local KRAS lab code, mapped to the HGNC gene code. */
    private static ConceptMap localLabCodes() {
        ConceptMap map = new ConceptMap();
        ConceptMap.ConceptMapGroupComponent group =
                map.addGroup().setSource("http://hospital.example/lab").setTarget(HGNC);
        group.addElement()
                .setCode("KRAS-MUT")
                .addTarget()
                .setCode("HGNC:6407")
                .setEquivalence(Enumerations.ConceptMapEquivalence.EQUIVALENT);
        return map;
    }

    private static ValueSetInfo vs(String url) {
        return new ValueSetInfo().withId(url);
    }

    @Test
    void theKrasGeneCodeIsInTheKrasValueSetAndNotNras() {
        assertThat(terminology.in(new Code().withSystem(HGNC).withCode("HGNC:6407"), vs(KRAS)))
                .isTrue();
        assertThat(terminology.in(new Code().withSystem(HGNC).withCode("HGNC:7989"), vs(KRAS)))
                .isFalse();
    }

    @Test
    void anIncludedValueSetBringsItsCodes() {
        assertThat(terminology.in(new Code().withSystem(HGNC).withCode("HGNC:6407"), vs(GENES)))
                .isTrue();
        assertThat(terminology.in(new Code().withSystem(HGNC).withCode("HGNC:7989"), vs(GENES)))
                .isTrue();
    }

    @Test
    void aLocalLabCodeMappedByTheConceptMapCountsAsItsTarget() {
        assertThat(terminology.in(
                        new Code().withSystem("http://hospital.example/lab").withCode("KRAS-MUT"), vs(KRAS)))
                .isTrue();
    }

    @Test
    void theSameCodeUnderAnotherSystemIsNotAMember() {
        assertThat(terminology.in(
                        new Code().withSystem("http://example.org/other").withCode("HGNC:6407"), vs(KRAS)))
                .isFalse();
    }
}
