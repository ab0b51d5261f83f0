package org.crlm.cds.fhirserver;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.gclient.TokenClientParam;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Date;
import java.util.UUID;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.FhirClients;
import org.crlm.cds.support.Http;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;

/**
 * A search on /fhir never answers from an older result than the last committed write it
 * matches: a client that writes a result and at once resolves its prefetch against /fhir gets
 * the new record, and so the cards of the new record.
 */
class SearchFreshnessIT extends AppIntegrationTest {

    @Test
    void aSearchRightAfterAWriteSeesTheWrite() {
        IGenericClient fhir = FhirClients.clinician(base());
        IdType patient =
                (IdType) fhir.create().resource(new Patient()).execute().getId().toUnqualifiedVersionless();
        for (int written = 1; written <= 3; written++) {
            fhir.create().resource(kras(patient, "KRAS p.Gly12Asp detected")).execute();
            Bundle found = fhir.search()
                    .forResource(Observation.class)
                    .where(Observation.SUBJECT.hasId(patient))
                    .and(new TokenClientParam("code").exactly().systemAndCode("http://loinc.org", "21702-6"))
                    .returnBundle(Bundle.class)
                    .execute();
            assertThat(found.getEntry())
                    .as("search right after write %d", written)
                    .hasSize(written);
        }
    }

    @Test
    void aKrasResultWrittenJustBeforeAHookCallChangesTheCardsAtOnce() {
        IGenericClient fhir = FhirClients.clinician(base());
        IdType patient =
                (IdType) fhir.create().resource(new Patient()).execute().getId().toUnqualifiedVersionless();
        ServiceRequest ablation = new ServiceRequest();
        ablation.setStatus(ServiceRequest.ServiceRequestStatus.ACTIVE);
        ablation.setIntent(ServiceRequest.ServiceRequestIntent.ORDER);
        ablation.setCode(new CodeableConcept(new Coding("http://www.ama-assn.org/go/cpt", "47382", null)));
        ablation.setSubject(new Reference(patient));
        fhir.create().resource(ablation).execute();
        CdsClient cds = new CdsClient(base(), keys());

        Http.Response before = cds.call("crlm-ablation-patient-view", viaFhirServer(patient.getIdPart()));
        assertThat(before.status()).as(before.body()).isEqualTo(200);
        // The advice cards; the GAPS card (what could not be assessed) is checked by the scenarios.
        assertThat(CdsHooksShape.ruleIds(before.json()))
                .as("ablation planned, KRAS unknown")
                .filteredOn(rule -> !rule.equals("GAPS"))
                .containsExactly("R7");

        fhir.create().resource(kras(patient, "KRAS p.Gly12Asp detected")).execute();
        Http.Response after = cds.call("crlm-ablation-patient-view", viaFhirServer(patient.getIdPart()));
        assertThat(after.status()).as(after.body()).isEqualTo(200);
        assertThat(CdsHooksShape.ruleIds(after.json()))
                .as("the KRAS result written a moment ago")
                .filteredOn(rule -> !rule.equals("GAPS"))
                .containsExactly("R1");
    }

    /** A patient-view call whose prefetch the service resolves against this server's /fhir as the EHR's FHIR server. */
    private ObjectNode viaFhirServer(String patientId) {
        ObjectNode request = Http.JSON.createObjectNode();
        request.put("hook", "patient-view");
        request.put("hookInstance", UUID.randomUUID().toString());
        request.put("fhirServer", base() + "/fhir");
        request.putObject("fhirAuthorization")
                .put("access_token", keys().fhirPatientToken(patientId, "patient/*.read"))
                .put("token_type", "Bearer")
                .put("expires_in", 300)
                .put("scope", "patient/*.read")
                .put("subject", "crlm-cds");
        request.putObject("context").put("userId", "Practitioner/freshness").put("patientId", patientId);
        return request;
    }

    private static Observation kras(IdType patient, String text) {
        Observation kras = new Observation();
        kras.setStatus(Observation.ObservationStatus.FINAL);
        kras.setCode(new CodeableConcept(new Coding("http://loinc.org", "21702-6", "KRAS gene mutations found")));
        kras.setSubject(new Reference(patient));
        kras.setEffective(new DateTimeType(new Date()));
        kras.setValue(new StringType(text));
        return kras;
    }
}
