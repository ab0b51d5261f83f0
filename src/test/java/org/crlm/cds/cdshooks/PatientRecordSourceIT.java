package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.crlm.cds.authoring.BundlePrefetch;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.Http;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The local store stands in for the patient's record only where it is that record. In the
 * deployment where the EHR writes into this server (the test and demo profiles), a missing
 * prefetch key is read from the store, but a patient the store does not know is a 412, never
 * {"cards": []}. In the deployment where the EHR keeps its own FHIR server (the default), a
 * missing key without an allow-listed fhirServer is a 412 naming the missing keys, never a
 * card computed from an empty or foreign store ("KRAS status unknown" for a patient whose
 * KRAS result was simply not sent).
 */
class PatientRecordSourceIT extends AppIntegrationTest {

    private static final String SERVICE = "crlm-ablation-patient-view";
    /** KRAS p.Ala146Thr on record; one lesion booked for ablation. */
    private static final String KNOWN = "crlm-demo-11";

    private static final String UNKNOWN = "no-such-patient-4711";

    @Autowired
    FhirJsonReader fhirJson;

    @Autowired
    RemoteFhirReader remote;

    @Autowired
    LocalStoreReader local;

    @Autowired
    OwnFhirServer own;

    @Autowired
    CdsHooksProperties cdsProperties;

    @Autowired
    HookRequestParser parser;

    @Autowired
    HookService hooks;

    // ---- The EHR writes into this server (crlm.cds.local-store-is-patient-record=true, this profile) ----

    @Test
    void whereTheStoreIsTheRecordAnOmittedKeyIsReadFromIt() {
        CdsClient cds = new CdsClient(base(), keys());
        Map<String, String> templates = templates(cds);
        List<IBaseResource> record = demoRecord(KNOWN);
        Http.Response full = cds.call(SERVICE, request(KNOWN, BundlePrefetch.full(templates, KNOWN, record)));
        Set<String> withoutGenetics = new LinkedHashSet<>(templates.keySet());
        withoutGenetics.remove("geneticResults");
        Http.Response partial =
                cds.call(SERVICE, request(KNOWN, BundlePrefetch.subset(templates, KNOWN, record, withoutGenetics)));

        assertThat(full.status()).as(full.body()).isEqualTo(200);
        assertThat(partial.status()).as(partial.body()).isEqualTo(200);
        assertThat(CdsHooksShape.ruleIds(partial.json()))
                .as("KRAS read from the store, not 'unknown'")
                .isEqualTo(CdsHooksShape.ruleIds(full.json()))
                .contains("R1")
                .doesNotContain("R7");
    }

    @Test
    void whereTheStoreIsTheRecordAPatientItDoesNotKnowIs412NeverAnEmptyAnswer() {
        CdsClient cds = new CdsClient(base(), keys());
        Http.Response response = cds.call(SERVICE, request(UNKNOWN, null));

        assertThat(response.status()).as(response.body()).isEqualTo(412);
        JsonNode outcome = response.json();
        assertThat(outcome.path("resourceType").asText()).isEqualTo("OperationOutcome");
        assertThat(outcome.path("issue").get(0).path("code").asText()).isEqualTo("incomplete");
        List<String> expressions = new ArrayList<>();
        outcome.path("issue").get(0).path("expression").forEach(e -> expressions.add(e.asText()));
        assertThat(expressions)
                .containsExactlyElementsOf(templates(cds).keySet().stream()
                        .map(k -> "prefetch." + k)
                        .toList());
        assertThat(outcome.path("issue").get(0).path("diagnostics").asText())
                .contains("no Patient")
                .contains("geneticResults");
    }

    // ---- The EHR keeps its own FHIR server (the default: local-store-is-patient-record=false) ----

    private PrefetchResolver defaultDeployment() {
        return new PrefetchResolver(
                fhirJson, remote, local, own, new PatientRecordProperties(false, false), cdsProperties);
    }

    @Test
    void whereTheStoreIsNotTheRecordAnOmittedKeyIs412NamingIt() {
        CdsClient cds = new CdsClient(base(), keys());
        Map<String, String> templates = templates(cds);
        Set<String> withoutGenetics = new LinkedHashSet<>(templates.keySet());
        withoutGenetics.remove("geneticResults");
        HookRequest request = parser.parse(
                request(KNOWN, BundlePrefetch.subset(templates, KNOWN, demoRecord(KNOWN), withoutGenetics)));

        assertThatThrownBy(() -> defaultDeployment().resolve(hooks.service(SERVICE), request, hooks.rules()))
                .isInstanceOfSatisfying(DataUnavailableException.class, e -> {
                    assertThat(e.prefetchKeys()).containsExactly("geneticResults");
                    assertThat(e.getMessage()).contains("geneticResults").contains("fhirServer");
                });
    }

    @Test
    void whereTheStoreIsNotTheRecordNoPrefetchIs412NamingEveryKeyEvenForAPatientInTheStore() {
        CdsClient cds = new CdsClient(base(), keys());
        HookRequest request = parser.parse(request(KNOWN, null));

        assertThatThrownBy(() -> defaultDeployment().resolve(hooks.service(SERVICE), request, hooks.rules()))
                .isInstanceOfSatisfying(DataUnavailableException.class, e -> assertThat(e.prefetchKeys())
                        .containsExactlyElementsOf(templates(cds).keySet()));
    }

    @Test
    void whereTheStoreIsNotTheRecordACompletePrefetchIsAllThatIsNeeded() {
        CdsClient cds = new CdsClient(base(), keys());
        HookRequest request =
                parser.parse(request(KNOWN, BundlePrefetch.full(templates(cds), KNOWN, demoRecord(KNOWN))));

        PatientRecord record = defaultDeployment().resolve(hooks.service(SERVICE), request, hooks.rules());
        assertThat(record.sources().values())
                .doesNotContain(PatientRecord.Source.LOCAL_STORE, PatientRecord.Source.FHIR_SERVER);
        assertThat(record.resources()).isNotEmpty();
    }

    // ---- helpers ----

    private static Map<String, String> templates(CdsClient cds) {
        for (JsonNode service : cds.discovery().json().path("services")) {
            if (service.path("id").asText().equals(SERVICE)) {
                Map<String, String> t = new LinkedHashMap<>();
                service.path("prefetch")
                        .fields()
                        .forEachRemaining(e -> t.put(e.getKey(), e.getValue().asText()));
                return t;
            }
        }
        throw new AssertionError("no " + SERVICE + " in discovery");
    }

    private static ObjectNode request(String patientId, ObjectNode prefetch) {
        ObjectNode request = Http.JSON.createObjectNode();
        request.put("hook", "patient-view");
        request.put("hookInstance", UUID.randomUUID().toString());
        request.putObject("context").put("userId", "Practitioner/record-source").put("patientId", patientId);
        if (prefetch != null) {
            request.set("prefetch", prefetch);
        }
        return request;
    }

    static List<IBaseResource> demoRecord(String patientId) {
        try (var files = Files.list(Path.of("fhir-resources", "demo"))) {
            Path file = files.filter(f -> f.getFileName().toString().startsWith(patientId.replace("crlm-", "") + "-"))
                    .findFirst()
                    .orElseThrow();
            Bundle bundle =
                    FhirContext.forR4Cached().newJsonParser().parseResource(Bundle.class, Files.readString(file));
            List<IBaseResource> resources = new ArrayList<>();
            bundle.getEntry().forEach(e -> resources.add(e.getResource()));
            return resources;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
