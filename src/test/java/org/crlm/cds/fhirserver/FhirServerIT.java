package org.crlm.cds.fhirserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.gclient.TokenClientParam;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import java.util.Date;
import java.util.List;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.FhirClients;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.RepositoryCounts;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.ValueSet;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** The FHIR R4 JPA server at /fhir, over real HTTP with HAPI's client. */
class FhirServerIT extends AppIntegrationTest {

    @Autowired
    FhirServerProperties fhirProperties;

    @Test
    void aPatientAndAnObservationAreWrittenAndReadBack() {
        IGenericClient fhir = FhirClients.clinician(base());
        Patient patient = new Patient();
        patient.addName().setFamily("Vermeulen").addGiven("Anna");
        patient.setGender(Enumerations.AdministrativeGender.FEMALE);
        MethodOutcome created = fhir.create().resource(patient).execute();
        IdType patientId = (IdType) created.getId().toUnqualifiedVersionless();

        Observation size = new Observation();
        size.setStatus(Observation.ObservationStatus.FINAL);
        size.setCode(new CodeableConcept(new Coding("http://loinc.org", "21889-1", "Size Tumor")));
        size.setSubject(new Reference(patientId));
        size.setEffective(new org.hl7.fhir.r4.model.DateTimeType(new Date()));
        size.setValue(new Quantity()
                .setValue(31)
                .setUnit("mm")
                .setSystem("http://unitsofmeasure.org")
                .setCode("mm"));
        IdType observationId =
                (IdType) fhir.create().resource(size).execute().getId().toUnqualifiedVersionless();

        Patient readPatient =
                fhir.read().resource(Patient.class).withId(patientId).execute();
        assertThat(readPatient.getNameFirstRep().getFamily()).isEqualTo("Vermeulen");
        Observation readSize =
                fhir.read().resource(Observation.class).withId(observationId).execute();
        assertThat(readSize.getValueQuantity().getValue().intValue()).isEqualTo(31);
        assertThat(readSize.getSubject().getReferenceElement().getIdPart()).isEqualTo(patientId.getIdPart());

        Bundle found = fhir.search()
                .forResource(Observation.class)
                .where(Observation.SUBJECT.hasId(patientId))
                .and(new TokenClientParam("code").exactly().systemAndCode("http://loinc.org", "21889-1"))
                .returnBundle(Bundle.class)
                .execute();
        assertThat(found.getEntry()).hasSize(1);
    }

    @Test
    void aRecordWrittenThroughTheApiIsEvaluatedByTheCqlRules() {
        // Smoke test of the parts that only fail at first use: HAPI's storage and the CQL engine
        // (its Kotlin runtime) on data written now. KRAS mutated, one ablation on record → R1.
        IGenericClient fhir = FhirClients.clinician(base());
        IdType patientId =
                (IdType) fhir.create().resource(new Patient()).execute().getId().toUnqualifiedVersionless();
        Observation kras = new Observation();
        kras.setStatus(Observation.ObservationStatus.FINAL);
        kras.setCode(new CodeableConcept(new Coding("http://loinc.org", "21702-6", "KRAS gene mutations found")));
        kras.setSubject(new Reference(patientId));
        kras.setEffective(new org.hl7.fhir.r4.model.DateTimeType(new Date()));
        kras.setValue(new org.hl7.fhir.r4.model.StringType("KRAS p.Gly12Asp detected"));
        fhir.create().resource(kras).execute();
        org.hl7.fhir.r4.model.ServiceRequest ablation = new org.hl7.fhir.r4.model.ServiceRequest();
        ablation.setStatus(org.hl7.fhir.r4.model.ServiceRequest.ServiceRequestStatus.ACTIVE);
        ablation.setIntent(org.hl7.fhir.r4.model.ServiceRequest.ServiceRequestIntent.ORDER);
        ablation.setCode(new CodeableConcept(new Coding("http://www.ama-assn.org/go/cpt", "47382", null)));
        ablation.setSubject(new Reference(patientId));
        fhir.create().resource(ablation).execute();

        Http.Response response = new org.crlm.cds.support.CdsClient(base(), keys()).patientView(patientId.getIdPart());

        assertThat(response.status()).as(response.body()).isEqualTo(200);
        // The order names no lesion and no liver lesion is measured: the GAPS card says so.
        assertThat(org.crlm.cds.support.CdsHooksShape.ruleIds(response.json())).containsExactly("GAPS", "R1");
    }

    @Test
    void aTransactionBundleCreatesAllOrNothing() {
        IGenericClient fhir = FhirClients.clinician(base());
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        Patient patient = new Patient();
        patient.addName().setFamily("Okafor");
        tx.addEntry()
                .setFullUrl("urn:uuid:7d1b3a2e-4d1e-4d5a-9c8e-111111111111")
                .setResource(patient)
                .getRequest()
                .setMethod(Bundle.HTTPVerb.POST)
                .setUrl("Patient");
        Observation kras = new Observation();
        kras.setStatus(Observation.ObservationStatus.FINAL);
        kras.setCode(new CodeableConcept(new Coding("http://loinc.org", "21702-6", null)));
        kras.setSubject(new Reference("urn:uuid:7d1b3a2e-4d1e-4d5a-9c8e-111111111111"));
        kras.setValue(new org.hl7.fhir.r4.model.StringType("p.Gly12Asp"));
        tx.addEntry()
                .setResource(kras)
                .getRequest()
                .setMethod(Bundle.HTTPVerb.POST)
                .setUrl("Observation");

        Bundle response = fhir.transaction().withBundle(tx).execute();

        assertThat(response.getEntry()).hasSize(2);
        assertThat(response.getEntry())
                .allMatch(e -> e.getResponse().getStatus().startsWith("201"));
        String patientRef = response.getEntry().get(0).getResponse().getLocation();
        Observation stored = fhir.read()
                .resource(Observation.class)
                .withUrl(response.getEntry().get(1).getResponse().getLocation())
                .execute();
        assertThat(stored.getSubject().getReference())
                .startsWith(patientRef.substring(0, patientRef.indexOf("/_history")));
    }

    @Test
    void theCapabilityStatementIsPublic() {
        CapabilityStatement metadata = FhirClients.client(base() + "/fhir", null)
                .capabilities()
                .ofType(CapabilityStatement.class)
                .execute();
        assertThat(metadata.getFhirVersion().toCode()).isEqualTo("4.0.1");
    }

    @Test
    void onlyTheConfiguredResourceTypesAreStoredAndServed() {
        CapabilityStatement metadata = FhirClients.client(base() + "/fhir", null)
                .capabilities()
                .ofType(CapabilityStatement.class)
                .execute();
        assertThat(metadata.getRestFirstRep().getResource().stream()
                        .map(CapabilityStatement.CapabilityStatementRestResourceComponent::getType)
                        .toList())
                // and OperationDefinition, which HAPI serves read-only for its own operations
                .containsExactlyInAnyOrderElementsOf(java.util.stream.Stream.concat(
                                fhirProperties.resourceTypes().stream(),
                                java.util.stream.Stream.of("OperationDefinition"))
                        .toList())
                .contains("Observation", "Condition", "ServiceRequest", "BodyStructure", "PlanDefinition")
                .doesNotContain("Claim");
        Http.Response claims = Http.get(base() + "/fhir/Claim", keys().fhirToken("user/*.read"));
        assertThat(claims.status()).as(claims.body()).isEqualTo(404);
        assertThat(claims.body()).contains("Unknown resource type 'Claim'");
    }

    @Test
    void readingWithoutATokenIsRefusedAndWritingNeedsAWriteScope() {
        assertThatThrownBy(() -> FhirClients.client(base() + "/fhir", null)
                        .read()
                        .resource(Patient.class)
                        .withId("crlm-demo-01")
                        .execute())
                .isInstanceOf(AuthenticationException.class);
        IGenericClient reader = FhirClients.client(base() + "/fhir", keys().fhirToken("user/Patient.read"));
        assertThat(reader.read()
                        .resource(Patient.class)
                        .withId("crlm-demo-01")
                        .execute()
                        .getIdPart())
                .isEqualTo("crlm-demo-01");
        Patient p = new Patient();
        p.addName().setFamily("Nobody");
        assertThatThrownBy(() -> reader.create().resource(p).execute()).isInstanceOf(ForbiddenOperationException.class);
    }

    @Test
    void theRepositoryIsLoadedOnceWithStableIds() {
        IGenericClient fhir = FhirClients.clinician(base());
        Bundle libraries = fhir.search()
                .forResource(Library.class)
                .returnBundle(Bundle.class)
                .execute();
        assertThat(libraries.getEntry())
                .extracting(e -> e.getResource().getIdElement().getIdPart())
                .contains("CRLMAblationRules", "CRLMFacts")
                .hasSize(RepositoryCounts.ofType("Library"));
        Library rules =
                fhir.read().resource(Library.class).withId("CRLMAblationRules").execute();
        assertThat(rules.getContent()).extracting(c -> c.getContentType()).contains("text/cql", "application/elm+json");
        Bundle plans = fhir.search()
                .forResource(PlanDefinition.class)
                .count(100)
                .returnBundle(Bundle.class)
                .execute();
        assertThat(plans.getEntry()).hasSize(RepositoryCounts.ofType("PlanDefinition"));
        Bundle valueSets = fhir.search()
                .forResource(ValueSet.class)
                .count(100)
                .returnBundle(Bundle.class)
                .execute();
        assertThat(valueSets.getEntry()).hasSize(RepositoryCounts.ofType("ValueSet"));
        assertThat(fhir.read()
                        .resource(Patient.class)
                        .withId("crlm-demo-01")
                        .execute()
                        .getName())
                .isNotEmpty();
    }

    @Test
    void livenessAndReadinessAreUpOnceTheRulesAreWarm() {
        assertThat(Http.get(base() + "/actuator/health/liveness", null).body()).contains("\"UP\"");
        Http.Response readiness = Http.get(base() + "/actuator/health/readiness", null);
        assertThat(readiness.status()).isEqualTo(200);
        assertThat(readiness.body()).contains("\"UP\"");
        List<String> probes = List.of("/actuator/health/liveness", "/actuator/health/readiness");
        probes.forEach(p -> assertThat(Http.get(base() + p, null).status()).isEqualTo(200));
    }
}
