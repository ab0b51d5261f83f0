package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.FhirClients;
import org.crlm.cds.support.Http;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CDS Hooks 2.0 contract end to end over HTTP: discovery, each hook with full, partial
 * and no prefetch and with an allow-listed fhirServer, and each error. Every answer is
 * checked against the 2.0 response shape.
 */
class CdsHooksContractIT extends AppIntegrationTest {

    private static final Pattern TOKEN = Pattern.compile("\\{\\{([^}]+)}}");
    private static final Set<String> STANDARD_TOKENS = Set.of(
            "context.patientId",
            "context.userId",
            "context.encounterId",
            "userPractitionerId",
            "userPractitionerRoleId",
            "userPatientId",
            "userRelatedPersonId");

    private CdsClient cds;
    private Map<String, Map<String, String>> templates;

    @BeforeEach
    void discover() {
        cds = new CdsClient(base(), keys());
        templates = cds.prefetchTemplates();
    }

    @Test
    void discoveryDescribesEveryServiceWithItsPrefetchAndUsage() {
        Http.Response response = cds.discovery();
        assertThat(response.status()).isEqualTo(200);
        JsonNode services = response.json().path("services");
        // One per service PlanDefinition of the repository (however many an informatician adds).
        assertThat(services)
                .hasSize(new org.crlm.cds.knowledge.ServiceCatalog()
                        .services(org.crlm.cds.support.RepositoryRules.get())
                        .size());
        Map<String, String> hooks = new LinkedHashMap<>();
        for (JsonNode service : services) {
            hooks.put(service.path("id").asText(), service.path("hook").asText());
            assertThat(service.path("title").asText()).isNotBlank();
            assertThat(service.path("description").asText()).isNotBlank();
            assertThat(service.path("usageRequirements").asText()).contains("KRAS");
            assertThat(service.path("prefetch").size())
                    .as("every template of the service's PlanDefinition")
                    .isEqualTo(prefetchTemplatesInRepository(service.path("id").asText()));
            service.path("prefetch").forEach(template -> {
                Matcher m = TOKEN.matcher(template.asText());
                while (m.find()) {
                    assertThat(STANDARD_TOKENS)
                            .as("prefetch token")
                            .contains(m.group(1).trim());
                }
            });
            CdsHooksShape.assertNoNullOrEmpty(service, "$.services[]", false);
        }
        assertThat(hooks)
                .containsEntry("crlm-ablation-patient-view", "patient-view")
                .containsEntry("crlm-ablation-order-select", "order-select")
                .containsEntry("crlm-ablation-order-sign", "order-sign");
        assertThat(templates.get("crlm-ablation-order-sign"))
                .containsKeys(
                        "patient",
                        "geneticResults",
                        "tumorSize",
                        "nodalStage",
                        "conditions",
                        "serviceRequests",
                        "plannedProcedures",
                        "bodyStructures");
    }

    /**
     * The three hooks with a demo patient whose advice is known (see README, demo patients). The
     * draft order below is known only from its text, so the GAPS card says so.
     */
    static Stream<Arguments> hooks() {
        return Stream.of(
                Arguments.of("crlm-ablation-patient-view", "crlm-demo-01", Set.of("R1", "R2", "R8")),
                Arguments.of("crlm-ablation-order-select", "crlm-demo-11", Set.of("R1", "R2", "R3", "GAPS")),
                Arguments.of("crlm-ablation-order-sign", "crlm-demo-11", Set.of("R1", "R2", "R3", "GAPS")));
    }

    @ParameterizedTest(name = "{0} for {1}, full prefetch → {2}")
    @MethodSource("hooks")
    void fullPrefetch(String service, String patient, Set<String> expected) {
        ObjectNode request = request(service, patient);
        request.set(
                "prefetch",
                prefetchFromTheEhr(service, patient, templates.get(service).keySet()));
        assertCards(cds.call(service, request), expected);
    }

    /**
     * What the public CDS Hooks Sandbox sends when a clinician signs or selects a paracetamol
     * order for a patient whose record holds planned ablations: no ablation cards, on either hook.
     */
    @ParameterizedTest(name = "{0}: a paracetamol order alone gets no ablation cards")
    @ValueSource(strings = {"crlm-ablation-order-sign", "crlm-ablation-order-select"})
    void aParacetamolOrderAloneGetsNoAblationCards(String service) {
        ObjectNode request = request(service, "crlm-demo-11");
        ObjectNode context = (ObjectNode) request.get("context");
        ObjectNode drafts = context.putObject("draftOrders");
        drafts.put("resourceType", "Bundle");
        drafts.put("type", "collection");
        ObjectNode medication = drafts.putArray("entry").addObject().putObject("resource");
        medication.put("resourceType", "MedicationRequest");
        medication.put("id", "request-123");
        medication.put("status", "draft");
        medication.put("intent", "order");
        medication
                .putObject("medicationCodeableConcept")
                .put("text", "Acetaminophen 325 MG Oral Tablet")
                .putArray("coding")
                .addObject()
                .put("system", "http://www.nlm.nih.gov/research/umls/rxnorm")
                .put("code", "313782")
                .put("display", "Acetaminophen 325 MG Oral Tablet");
        medication.putObject("subject").put("reference", "Patient/crlm-demo-11");
        if (context.has("selections")) {
            context.putArray("selections").add("MedicationRequest/request-123");
        }
        assertCards(cds.call(service, request), Set.of());
        // The same patient, the ablation order selected or signed: the warnings are back.
        // (crlm-demo-11's new order is recognised from its text only, which the GAPS card states.)
        assertCards(cds.call(service, request(service, "crlm-demo-11")), Set.of("R1", "R2", "R3", "GAPS"));
    }

    @ParameterizedTest(name = "{0} for {1}, partial prefetch → {2}")
    @MethodSource("hooks")
    void partialPrefetchTheServiceFetchesTheRest(String service, String patient, Set<String> expected) {
        ObjectNode request = request(service, patient);
        request.set(
                "prefetch", prefetchFromTheEhr(service, patient, Set.of("patient", "geneticResults", "conditions")));
        assertCards(cds.call(service, request), expected);
    }

    @ParameterizedTest(name = "{0} for {1}, no prefetch (local store) → {2}")
    @MethodSource("hooks")
    void noPrefetchTheServiceReadsItsOwnStore(String service, String patient, Set<String> expected) {
        assertCards(cds.call(service, request(service, patient)), expected);
    }

    @ParameterizedTest(name = "{0} for {1}, from an allow-listed fhirServer → {2}")
    @MethodSource("hooks")
    void noPrefetchWithAnAllowListedFhirServer(String service, String patient, Set<String> expected) {
        ObjectNode request = request(service, patient);
        request.put("fhirServer", base() + "/fhir");
        ObjectNode auth = request.putObject("fhirAuthorization");
        auth.put("access_token", keys().fhirPatientToken(patient, "patient/*.read"));
        auth.put("token_type", "Bearer");
        auth.put("expires_in", 300);
        auth.put("scope", "patient/*.read");
        auth.put("subject", "crlm-cds");
        auth.put("patient", patient);
        assertCards(cds.call(service, request), expected);
    }

    @Test
    void prefetchSetToNullMeansNoDataAndAnOperationOutcomeMeansFetchItYourself() {
        String service = "crlm-ablation-patient-view";
        ObjectNode request = request(service, "crlm-demo-01");
        ObjectNode prefetch = prefetchFromTheEhr(
                service, "crlm-demo-01", templates.get(service).keySet());
        prefetch.putNull("nodalStage");
        prefetch.putNull("conditions");
        prefetch.set(
                "geneticResults",
                Http.JSON.valueToTree(Map.of(
                        "resourceType",
                        "OperationOutcome",
                        "issue",
                        List.of(Map.of("severity", "error", "code", "timeout")))));
        request.set("prefetch", prefetch);
        // No N2 and no conditions ("no data") → no R8; genetics fetched from the store → KRAS still mutated.
        assertCards(cds.call(service, request), Set.of("R1", "R2"));
    }

    @Test
    void cardsComeMostUrgentFirstAndCarryTheirRuleAndVersion() {
        JsonNode body = cds.call("crlm-ablation-patient-view", request("crlm-ablation-patient-view", "crlm-demo-01"))
                .json();
        List<String> indicators = body.path("cards").findValuesAsText("indicator");
        assertThat(indicators).containsExactly("warning", "warning", "info");
        for (JsonNode card : body.path("cards")) {
            JsonNode provenance = card.path("extension").path("org.crlm-cds.rule");
            assertThat(provenance.path("ruleId").asText())
                    .isEqualTo(card.path("source").path("topic").path("code").asText());
            assertThat(provenance.path("libraryVersion").asText()).matches("\\d+\\.\\d+\\.\\d+");
            if (card.path("indicator").asText().equals("warning")) {
                assertThat(card.path("overrideReasons").findValuesAsText("code"))
                        .contains("resection-not-feasible", "mdt-decision", "patient-preference");
            } else {
                // R8 informs about risk factors: the only reason to dismiss it is wrong data.
                assertThat(card.path("overrideReasons").findValuesAsText("code"))
                        .containsExactly("data-outdated");
            }
        }
        JsonNode r1 = card(body, "R1");
        assertThat(r1.path("detail").asText())
                .contains("**This patient:** KRAS p.Gly12Asp")
                .contains("2 lesions planned");
        // The resources behind the decision, as read from the store: each with its type, id and version.
        JsonNode resources = r1.path("extension").path("org.crlm-cds.resources");
        assertThat(resources.size()).isPositive();
        for (JsonNode ref : resources) {
            assertThat(ref.path("type").asText()).isIn("Observation", "ServiceRequest", "Procedure", "Condition");
            assertThat(ref.path("id").asText()).isNotBlank();
            // Read from the store: each has its version (a draft order sent in the hook's context has none).
            if (!ref.path("id").asText().startsWith("draft-")) {
                assertThat(ref.path("version").asText()).as(ref.toString()).matches("\\d+");
            }
        }
        assertThat(r1.path("source").path("url").asText()).isEqualTo("https://doi.org/10.1002/wjs.12616");
    }

    @Test
    void r7SuggestsOrderingTheMutationAnalysis() {
        JsonNode body = cds.call("crlm-ablation-patient-view", request("crlm-ablation-patient-view", "crlm-demo-07"))
                .json();
        JsonNode r7 = card(body, "R7");
        assertThat(r7.path("indicator").asText()).isEqualTo("info");
        assertThat(r7.path("selectionBehavior").asText()).isEqualTo("at-most-one");
        JsonNode suggestion = r7.path("suggestions").get(0);
        assertThat(suggestion.path("uuid").asText()).isNotBlank();
        List<String> genes = new java.util.ArrayList<>();
        for (JsonNode action : suggestion.path("actions")) {
            assertThat(action.path("type").asText()).isEqualTo("create");
            JsonNode order = action.path("resource");
            assertThat(order.path("resourceType").asText()).isEqualTo("ServiceRequest");
            assertThat(order.path("status").asText()).isEqualTo("draft");
            assertThat(order.path("intent").asText()).isEqualTo("order");
            assertThat(order.path("subject").path("reference").asText()).isEqualTo("Patient/crlm-demo-07");
            assertThat(order.path("code").path("coding").get(0).path("system").asText())
                    .isEqualTo("http://loinc.org");
            genes.add(order.path("code").path("text").asText().split(" ")[0]);
        }
        assertThat(genes).containsExactly("KRAS", "NRAS", "BRAF");
    }

    @Test
    void aLargeRecordIsReadWholeFromTheLocalStore() {
        // 700 measurements of one liver lesion at 20 mm, then the most recent at 35 mm, stored
        // last: a read that stops early (HAPI's fetch-size cap did, at 500) misses it and stays silent.
        String patient = "contract-large-record";
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        org.hl7.fhir.r4.model.Patient p = new org.hl7.fhir.r4.model.Patient();
        p.setId(patient);
        put(tx, p);
        org.hl7.fhir.r4.model.BodyStructure lesion = new org.hl7.fhir.r4.model.BodyStructure();
        lesion.setId(patient + "-lesion");
        lesion.setPatient(new org.hl7.fhir.r4.model.Reference("Patient/" + patient));
        lesion.setLocation(new org.hl7.fhir.r4.model.CodeableConcept(
                new org.hl7.fhir.r4.model.Coding("http://snomed.info/sct", "10200004", "Liver structure")));
        put(tx, lesion);
        for (int i = 0; i <= 700; i++) {
            org.hl7.fhir.r4.model.Observation size = new org.hl7.fhir.r4.model.Observation();
            size.setId(patient + "-size-" + i);
            size.setStatus(org.hl7.fhir.r4.model.Observation.ObservationStatus.FINAL);
            size.setSubject(new org.hl7.fhir.r4.model.Reference("Patient/" + patient));
            size.setCode(new org.hl7.fhir.r4.model.CodeableConcept(
                    new org.hl7.fhir.r4.model.Coding("http://loinc.org", "21889-1", "Size Tumor")));
            size.addFocus(new org.hl7.fhir.r4.model.Reference("BodyStructure/" + patient + "-lesion"));
            size.setEffective(new org.hl7.fhir.r4.model.DateTimeType(
                    java.time.LocalDate.of(2020, 1, 1).plusDays(i) + "T10:00:00Z"));
            size.setValue(new org.hl7.fhir.r4.model.Quantity()
                    .setValue(i == 700 ? 35 : 20)
                    .setUnit("mm")
                    .setSystem("http://unitsofmeasure.org")
                    .setCode("mm"));
            put(tx, size);
        }
        FhirClients.clinician(base()).transaction().withBundle(tx).execute();

        Http.Response response = cds.call("crlm-ablation-order-sign", request("crlm-ablation-order-sign", patient));

        // The 35 mm measurement is years old: R3 still fires, and GAPS states its date (and that
        // KRAS was not tested and the order is known only from its text).
        assertCards(response, Set.of("R3", "R7", "GAPS"));
        assertThat(card(response.json(), "R3").path("detail").asText()).contains("35 mm");
    }

    private static void put(Bundle tx, org.hl7.fhir.r4.model.Resource resource) {
        tx.addEntry()
                .setResource(resource)
                .getRequest()
                .setMethod(Bundle.HTTPVerb.PUT)
                .setUrl(resource.fhirType() + "/" + resource.getIdElement().getIdPart());
    }

    @Test
    void noAdviceIsAnEmptyCardsArray() {
        // A patient with nothing to advise on and nothing that could not be assessed.
        String patient = "contract-no-advice";
        Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        org.hl7.fhir.r4.model.Patient p = new org.hl7.fhir.r4.model.Patient();
        p.setId(patient);
        put(tx, p);
        FhirClients.clinician(base()).transaction().withBundle(tx).execute();
        Http.Response response = cds.call("crlm-ablation-patient-view", request("crlm-ablation-patient-view", patient));
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"cards\":[]}");
    }

    // ---- errors ----

    @Test
    void malformedJsonIs400() {
        assertOutcome(cds.call("crlm-ablation-order-sign", "{\"hook\": \"order-sign\", "), 400, null);
    }

    @Test
    void missingRequiredFieldsAre400NamingTheField() {
        ObjectNode noHook = request("crlm-ablation-order-sign", "crlm-demo-11");
        noHook.remove("hook");
        assertOutcome(cds.call("crlm-ablation-order-sign", noHook), 400, "hook");
        ObjectNode noInstance = request("crlm-ablation-order-sign", "crlm-demo-11");
        noInstance.remove("hookInstance");
        assertOutcome(cds.call("crlm-ablation-order-sign", noInstance), 400, "hookInstance");
        ObjectNode noContext = request("crlm-ablation-order-sign", "crlm-demo-11");
        noContext.remove("context");
        assertOutcome(cds.call("crlm-ablation-order-sign", noContext), 400, "context");
        ObjectNode noPatient = request("crlm-ablation-order-sign", "crlm-demo-11");
        ((ObjectNode) noPatient.get("context")).remove("patientId");
        assertOutcome(cds.call("crlm-ablation-order-sign", noPatient), 400, "context.patientId");
        ObjectNode noDrafts = request("crlm-ablation-order-sign", "crlm-demo-11");
        ((ObjectNode) noDrafts.get("context")).remove("draftOrders");
        assertOutcome(cds.call("crlm-ablation-order-sign", noDrafts), 400, "context.draftOrders");
        ObjectNode noSelections = request("crlm-ablation-order-select", "crlm-demo-11");
        ((ObjectNode) noSelections.get("context")).remove("selections");
        assertOutcome(cds.call("crlm-ablation-order-select", noSelections), 400, "context.selections");
    }

    @Test
    void wrongTypesAre400NamingTheField() {
        ObjectNode numberPatient = request("crlm-ablation-patient-view", "crlm-demo-01");
        ((ObjectNode) numberPatient.get("context")).put("patientId", 42);
        assertOutcome(cds.call("crlm-ablation-patient-view", numberPatient), 400, "context.patientId");
        ObjectNode contextArray = request("crlm-ablation-patient-view", "crlm-demo-01");
        contextArray.putArray("context");
        assertOutcome(cds.call("crlm-ablation-patient-view", contextArray), 400, "context");
        ObjectNode draftsNotBundle = request("crlm-ablation-order-sign", "crlm-demo-11");
        ((ObjectNode) draftsNotBundle.get("context")).putObject("draftOrders").put("resourceType", "ServiceRequest");
        assertOutcome(cds.call("crlm-ablation-order-sign", draftsNotBundle), 400, "context.draftOrders");
        ObjectNode selectionsString = request("crlm-ablation-order-select", "crlm-demo-11");
        ((ObjectNode) selectionsString.get("context")).put("selections", "ServiceRequest/x");
        assertOutcome(cds.call("crlm-ablation-order-select", selectionsString), 400, "context.selections");
        ObjectNode prefetchString = request("crlm-ablation-patient-view", "crlm-demo-01");
        prefetchString.putObject("prefetch").put("patient", "Patient/crlm-demo-01");
        assertOutcome(cds.call("crlm-ablation-patient-view", prefetchString), 400, "prefetch.patient");
        ObjectNode userIdBad = request("crlm-ablation-patient-view", "crlm-demo-01");
        ((ObjectNode) userIdBad.get("context")).put("userId", "dr-house");
        assertOutcome(cds.call("crlm-ablation-patient-view", userIdBad), 400, "context.userId");
    }

    @Test
    void aHookThatDoesNotMatchTheServiceIs400() {
        ObjectNode request = request("crlm-ablation-patient-view", "crlm-demo-01");
        request.put("hook", "order-sign");
        assertOutcome(cds.call("crlm-ablation-patient-view", request), 400, "hook");
    }

    @Test
    void anUnknownServiceIs404() {
        assertOutcome(cds.call("no-such-service", request("crlm-ablation-patient-view", "crlm-demo-01")), 404, null);
    }

    @Test
    void dataThatCannotBeFetchedIs412() {
        ObjectNode notListed = request("crlm-ablation-patient-view", "crlm-demo-01");
        notListed.put("fhirServer", "https://ehr.not-listed.example/fhir");
        assertOutcome(cds.call("crlm-ablation-patient-view", notListed), 412, "prefetch.patient");
        ObjectNode unreachable = request("crlm-ablation-patient-view", "crlm-demo-01");
        unreachable.put("fhirServer", keys().jwksBase() + "/redirecting-fhir");
        assertOutcome(cds.call("crlm-ablation-patient-view", unreachable), 412, "prefetch.patient");
    }

    @Test
    void browsersMayCallCrossOriginFromAllowedOrigins() {
        for (String path : List.of("/cds-services/crlm-ablation-order-sign", "/fhir/Patient")) {
            Http.Response preflight = Http.send(
                    "OPTIONS",
                    base() + path,
                    null,
                    Map.of(
                            "Origin",
                            "http://ehr.test.example",
                            "Access-Control-Request-Method",
                            "POST",
                            "Access-Control-Request-Headers",
                            "authorization,content-type"));
            assertThat(preflight.status()).as(path).isEqualTo(200);
            assertThat(preflight.header("Access-Control-Allow-Origin")).isEqualTo("http://ehr.test.example");
            assertThat(preflight.header("Access-Control-Allow-Headers").toLowerCase(java.util.Locale.ROOT))
                    .contains("authorization");
            Http.Response other = Http.send(
                    "OPTIONS",
                    base() + path,
                    null,
                    Map.of("Origin", "https://evil.example", "Access-Control-Request-Method", "POST"));
            assertThat(other.status()).as(path).isEqualTo(403);
        }
        Http.Response call = Http.send(
                "GET",
                base() + "/cds-services",
                null,
                Map.of(
                        "Origin",
                        "http://ehr.test.example",
                        "Authorization",
                        "Bearer " + keys().cdsJwt(base() + "/cds-services")));
        assertThat(call.header("Access-Control-Allow-Origin")).isEqualTo("http://ehr.test.example");
    }

    // ---- helpers ----

    /** The prefetch templates the service's PlanDefinition file declares (no count written here). */
    private static int prefetchTemplatesInRepository(String serviceId) {
        try {
            JsonNode plan = Http.JSON.readTree(
                    java.nio.file.Path.of("fhir-resources", "rules", "PlanDefinition-" + serviceId + ".json")
                            .toFile());
            int count = 0;
            for (JsonNode extension : plan.path("extension")) {
                if (extension.path("url").asText().endsWith("/cds-hooks-prefetch")) {
                    count++;
                }
            }
            return count;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private ObjectNode request(String service, String patientId) {
        String hook = service.replace("crlm-ablation-", "");
        ObjectNode request = Http.JSON.createObjectNode();
        request.put("hook", hook);
        request.put("hookInstance", java.util.UUID.randomUUID().toString());
        ObjectNode context = request.putObject("context");
        context.put("userId", "Practitioner/test-surgeon");
        context.put("patientId", patientId);
        if (!hook.equals("patient-view")) {
            ObjectNode drafts = context.putObject("draftOrders");
            drafts.put("resourceType", "Bundle");
            drafts.put("type", "collection");
            ObjectNode order = drafts.putArray("entry").addObject().putObject("resource");
            order.put("resourceType", "ServiceRequest");
            order.put("id", "draft-mwa-1");
            order.put("status", "draft");
            order.put("intent", "order");
            order.putObject("subject").put("reference", "Patient/" + patientId);
            order.putObject("code").put("text", "Microwave ablation of liver lesion");
            if (hook.equals("order-select")) {
                context.putArray("selections").add("ServiceRequest/draft-mwa-1");
            }
        }
        return request;
    }

    /** What an EHR sends: each template run against its FHIR server (here the app's own /fhir). */
    private ObjectNode prefetchFromTheEhr(String service, String patientId, Set<String> keys) {
        IGenericClient fhir = FhirClients.clinician(base());
        ObjectNode prefetch = Http.JSON.createObjectNode();
        for (Map.Entry<String, String> t : templates.get(service).entrySet()) {
            if (!keys.contains(t.getKey())) {
                continue;
            }
            String query = t.getValue().replace("{{context.patientId}}", patientId);
            IBaseResource result = query.contains("?")
                    ? fhir.search().byUrl(query).returnBundle(Bundle.class).execute()
                    : fhir.read()
                            .resource(query.substring(0, query.indexOf('/')))
                            .withId(query.substring(query.indexOf('/') + 1))
                            .execute();
            try {
                prefetch.set(
                        t.getKey(),
                        Http.JSON.readTree(
                                FhirContext.forR4Cached().newJsonParser().encodeResourceToString(result)));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return prefetch;
    }

    private static void assertCards(Http.Response response, Set<String> expected) {
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        CdsHooksShape.assertServiceResponse(response.json());
        assertThat(CdsHooksShape.ruleIds(response.json())).isEqualTo(new TreeSet<>(expected));
    }

    private static JsonNode card(JsonNode body, String rule) {
        for (JsonNode card : body.path("cards")) {
            if (rule.equals(card.path("source").path("topic").path("code").asText())) {
                return card;
            }
        }
        throw new AssertionError("No card for " + rule + " in " + body);
    }

    static void assertOutcome(Http.Response response, int status, String expression) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        JsonNode body = response.json();
        assertThat(body.path("resourceType").asText()).isEqualTo("OperationOutcome");
        assertThat(body.path("issue").get(0).path("severity").asText()).isEqualTo("error");
        assertThat(body.path("issue").get(0).path("diagnostics").asText()).isNotBlank();
        if (expression != null) {
            assertThat(body.path("issue").get(0).path("expression").get(0).asText())
                    .isEqualTo(expression);
        }
        assertThat(response.body()).doesNotContain("Exception").doesNotContain("\tat ");
    }
}
