package org.crlm.cds.rules;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.knowledge.Decision;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.support.RepositoryRules;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.junit.jupiter.api.Test;

/**
 * The official example instances of the Genomics Reporting IG 3.0.0 and mCODE 4.0.0
 * (src/test/resources/ig-examples, see its README), each with a liver-metastasis Condition and
 * a draft radiofrequency ablation order naming no lesion, signed at order-sign: the rules a
 * clinician would expect fire, with the facts read from the examples.
 */
class IgExamplesTest {

    private static final Path DIR = Path.of("src", "test", "resources", "ig-examples");
    private static final ZonedDateTime SIGNED = ZonedDateTime.parse("2019-06-01T12:00:00Z");

    private final DecisionEvaluator evaluator = new DecisionEvaluator(new RuleEngine());

    @Test
    void genomicsReportingBrafV600eReportWarnsOfBrafAndAsksForKras() throws IOException {
        List<Resource> example = bundle("genomics-reporting-3.0.0-Bundle-bundle-oncology-diagnostic.json");
        Decision decision = signAblation(example);
        assertThat(fired(decision)).containsExactly("GAPS", "R4", "R7");
        assertThat(facts(decision, "R4")).contains("p.Val600Glu");
        assertThat(facts(decision, "GAPS")).contains("KRAS not tested");
    }

    @Test
    void genomicsReportingOncologyReportWithNrasVariantWarnsOfNras() throws IOException {
        Decision decision = signAblation(bundle("genomics-reporting-3.0.0-Bundle-bundle-oncology-report-example.json"));
        assertThat(fired(decision)).containsExactly("GAPS", "R5", "R7");
        assertThat(facts(decision, "R5")).contains("NRAS NM_002524.4:c.34G>T (mutated)");
    }

    @Test
    void mcodePertinentNegativeClearsNrasAndBrafButNotTheUntestedKras() throws IOException {
        Decision decision = signAblation(
                List.of(resource("mcode-4.0.0-Observation-gx-genomic-variant-pertinent-negative-nras-kit-braf.json")));
        // KRAS is not on the panel: unknown, never wild type, so no favourable card.
        assertThat(fired(decision)).containsExactly("GAPS", "R7");
        assertThat(facts(decision, "R7")).contains("NRAS wild type").contains("BRAF wild type");
    }

    @Test
    void mcodeBreastTumourSizeIsNotALiverLesion() throws IOException {
        Decision decision = signAblation(List.of(
                resource("mcode-4.0.0-Observation-tumor-size-pathology.json"),
                resource("mcode-4.0.0-BodyStructure-tumor-lobular-carcinoma-left-breast.json")));
        // A 12 mm breast tumour neither makes the liver order favourable nor hides the missing liver size.
        assertThat(fired(decision)).containsExactly("GAPS", "R7");
        assertThat(facts(decision, "GAPS")).contains("No measured liver lesion");
    }

    private Decision signAblation(List<Resource> example) {
        String patient = patientOf(example);
        List<IBaseResource> data = new ArrayList<>(example);
        Condition metastasis = new Condition();
        metastasis.setId("ig-liver-metastasis");
        metastasis.setSubject(new Reference("Patient/" + patient));
        metastasis.setCode(new CodeableConcept(
                new Coding("http://snomed.info/sct", "94381002", "Secondary malignant neoplasm of liver")));
        metastasis.setOnset(new DateTimeType("2019-05-01"));
        data.add(metastasis);
        ServiceRequest order = new ServiceRequest();
        order.setId("ig-rfa-order");
        order.setStatus(ServiceRequest.ServiceRequestStatus.DRAFT);
        order.setIntent(ServiceRequest.ServiceRequestIntent.ORDER);
        order.setSubject(new Reference("Patient/" + patient));
        order.setCode(new CodeableConcept(new Coding(
                "http://www.ama-assn.org/go/cpt",
                "47382",
                "Ablation, 1 or more liver tumor(s), percutaneous, radiofrequency")));
        data.add(order);
        RuleSet rules = RepositoryRules.get();
        ServiceDefinition service =
                new ServiceCatalog().service(rules, "crlm-ablation-order-sign").orElseThrow();
        Decision decision = evaluator.decide(rules, service, new PatientData(patient, data, SIGNED));
        assertThat(decision.rules()).noneMatch(r -> r.status() == Decision.Status.FAILED);
        return decision;
    }

    private static Set<String> fired(Decision decision) {
        Set<String> fired = new TreeSet<>();
        decision.rules().stream()
                .filter(Decision.RuleOutcome::fired)
                .forEach(r -> fired.add(r.rule().ruleId()));
        return fired;
    }

    private static String facts(Decision decision, String rule) {
        return decision.rules().stream()
                .filter(r -> r.rule().ruleId().equals(rule))
                .findFirst()
                .orElseThrow()
                .facts();
    }

    private static Resource resource(String file) throws IOException {
        return (Resource) FhirContext.forR4Cached().newJsonParser().parseResource(Files.readString(DIR.resolve(file)));
    }

    /** A transaction Bundle's resources with its urn:uuid references resolved to Type/id, as a FHIR server would. */
    private static List<Resource> bundle(String file) throws IOException {
        Bundle bundle = (Bundle) resource(file);
        Map<String, String> byFullUrl = new HashMap<>();
        for (Bundle.BundleEntryComponent e : bundle.getEntry()) {
            byFullUrl.put(
                    e.getFullUrl(),
                    e.getResource().fhirType() + "/"
                            + e.getResource().getIdElement().getIdPart());
        }
        FhirTerser terser = FhirContext.forR4Cached().newTerser();
        List<Resource> resources = new ArrayList<>();
        for (Bundle.BundleEntryComponent e : bundle.getEntry()) {
            for (Reference ref : terser.getAllPopulatedChildElementsOfType(e.getResource(), Reference.class)) {
                if (byFullUrl.containsKey(ref.getReference())) {
                    ref.setReference(byFullUrl.get(ref.getReference()));
                }
            }
            resources.add(e.getResource());
        }
        return resources;
    }

    private static String patientOf(List<Resource> resources) {
        for (Resource r : resources) {
            if (r instanceof org.hl7.fhir.r4.model.Patient) {
                return r.getIdElement().getIdPart();
            }
        }
        FhirTerser terser = FhirContext.forR4Cached().newTerser();
        for (Resource r : resources) {
            for (Reference ref : terser.getAllPopulatedChildElementsOfType(r, Reference.class)) {
                if ("Patient".equals(ref.getReferenceElement().getResourceType())) {
                    return ref.getReferenceElement().getIdPart();
                }
            }
        }
        throw new IllegalStateException("no patient in the example");
    }
}
