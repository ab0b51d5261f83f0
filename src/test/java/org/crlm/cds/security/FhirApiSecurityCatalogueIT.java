package org.crlm.cds.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.TestKeys;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The catalogue of attacks on the FHIR API, as a token holder would try them. Two patients of
 * our own (Quillfeather, whose record the patient-launch tokens are for, and Brightwater, seen by
 * Dr Drummondvale) are written first. Each case asserts the status, that nothing outside the
 * token's grant is in the body (names, ids of the other patient or of types not granted), that
 * an error is an OperationOutcome without a stack trace, and that nothing was written.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FhirApiSecurityCatalogueIT extends AppIntegrationTest {

    static final String A = "fhircat-a";
    static final String B = "fhircat-b";
    static final String A_NAME = "Quillfeather";
    static final String B_NAME = "Brightwater";
    static final String PRACTITIONER_NAME = "Drummondvale";
    static final String OBS_A = "fhircat-a-size";
    static final String OBS_B = "fhircat-b-size";
    static final String SIZE = "http://loinc.org%7C21889-1";
    static final List<String> COUNTED = List.of(
            "Patient",
            "Observation",
            "Condition",
            "Practitioner",
            "Library",
            "PlanDefinition",
            "ServiceRequest",
            "Procedure",
            "BodyStructure",
            "Basic");

    /** One attack: what to send, the status it must get, what must not be in the answer, and any further check. */
    record Case(
            String name, int status, Supplier<Http.Response> send, List<String> mustNotContain, Runnable afterwards) {
        Case(String name, int status, Supplier<Http.Response> send, List<String> mustNotContain) {
            this(name, status, send, mustNotContain, () -> {});
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
            new ch.qos.logback.core.read.ListAppender<>();

    @org.junit.jupiter.api.AfterAll
    void stopCapturingLogs() {
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .detachAppender(logs);
    }

    /** The log lines that mention the marker of a forging attempt: each one whole, with no line break or escape. */
    private void noForgedLine(String marker) {
        List<String> lines = logs.list.stream()
                .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                .filter(m -> m.contains(marker))
                .toList();
        assertThat(lines).as("the refusal is logged, with the untrusted value").isNotEmpty();
        assertThat(lines).allSatisfy(line -> assertThat(line).doesNotContain("\n", "\r", "\u001b", "\u2028"));
    }

    @BeforeAll
    void writeTwoPatients() {
        logs.start();
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .addAppender(logs);
        String writer = keys().fhirToken("user/*.read", "user/*.write");
        put(
                writer,
                "Practitioner/fhircat-dr",
                """
                {"resourceType": "Practitioner", "id": "fhircat-dr", "name": [{"family": "%s"}]}"""
                        .formatted(PRACTITIONER_NAME));
        put(
                writer,
                "Patient/" + A,
                """
                {"resourceType": "Patient", "id": "%s", "name": [{"family": "%s"}], "birthDate": "1961-02-03",
                 "meta": {"tag": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]}}"""
                        .formatted(A, A_NAME));
        put(
                writer,
                "Patient/" + B,
                """
                {"resourceType": "Patient", "id": "%s", "name": [{"family": "%s"}], "birthDate": "1959-09-09"}"""
                        .formatted(B, B_NAME));
        put(writer, "Observation/" + OBS_A, observation(OBS_A, A, null));
        put(writer, "Observation/" + OBS_B, observation(OBS_B, B, "fhircat-dr"));
        put(
                writer,
                "Condition/fhircat-b-met",
                """
                {"resourceType": "Condition", "id": "fhircat-b-met", "subject": {"reference": "Patient/%s"},
                 "code": {"text": "liver metastasis"}}"""
                        .formatted(B));
    }

    private static String observation(String id, String patient, String performer) {
        return """
                {"resourceType": "Observation", "id": "%s", "status": "final",
                 "code": {"coding": [{"system": "http://loinc.org", "code": "21889-1"}]},
                 "subject": {"reference": "Patient/%s"}%s,
                 "valueQuantity": {"value": 27, "unit": "mm", "system": "http://unitsofmeasure.org", "code": "mm"}}"""
                .formatted(
                        id,
                        patient,
                        performer == null
                                ? ""
                                : ", \"performer\": [{\"reference\": \"Practitioner/" + performer + "\"}]");
    }

    private void put(String token, String path, String body) {
        Http.Response response = fhir("PUT", path, body, token);
        assertThat(response.status()).as(path + ": " + response.body()).isIn(200, 201);
    }

    private Http.Response fhir(String method, String path, String body, String token) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Accept", "application/fhir+json");
        if (body != null) {
            headers.put("Content-Type", "application/fhir+json");
        }
        if (token != null) {
            headers.put("Authorization", "Bearer " + token);
        }
        return Http.send(method, base() + "/fhir/" + path, body, headers);
    }

    private Http.Response get(String path, String token) {
        return fhir("GET", path, null, token);
    }

    // ---- tokens ----
    private String patientA(String... scopes) {
        return keys().fhirPatientToken(A, scopes);
    }

    private String user(String... scopes) {
        return keys().fhirToken(scopes);
    }

    Stream<Case> catalogue() {
        List<Case> cases = new ArrayList<>();
        // What would show the other patient's data (none of it is in a request URL, which a Bundle echoes).
        List<String> bData = List.of(
                "1959-09-09",
                "\"id\":\"" + B + "\"",
                "\"id\":\"" + OBS_B + "\"",
                "\"reference\":\"Patient/" + B + "\"",
                PRACTITIONER_NAME);
        // What would show any Patient resource: its type, a name, a birth date.
        List<String> anyPatient = List.of("\"resourceType\":\"Patient\"", "\"family\"", "1961-02-03", "1959-09-09");
        // ---- patient/ scopes hold to the patient's compartment ----
        cases.add(new Case(
                "patient/Observation.rs reads another patient's Observation",
                403,
                () -> get("Observation/" + OBS_B, patientA("patient/Observation.rs")),
                bData));
        cases.add(new Case(
                "patient/*.read reads another Patient",
                403,
                () -> get("Patient/" + B, patientA("patient/*.read")),
                bData));
        cases.add(new Case(
                "patient/Observation.read searches another patient's Observations",
                403,
                () -> get("Observation?patient=" + B, patientA("patient/Observation.read")),
                bData));
        cases.add(new Case(
                "patient/Observation.rs searches by subject of another patient",
                403,
                () -> get("Observation?subject=Patient/" + B, patientA("patient/Observation.rs")),
                bData));
        cases.add(new Case(
                "patient/*.read: Patient search by the other patient's name",
                200,
                () -> get("Patient?name=" + B_NAME, patientA("patient/*.read")),
                bData));
        cases.add(new Case(
                "patient/*.read: _id of the other patient",
                403,
                () -> get("Patient?_id=" + B, patientA("patient/*.read")),
                bData));
        cases.add(new Case(
                "patient/Observation.rs: search without a patient is narrowed",
                200,
                () -> get("Observation?code=" + SIZE, patientA("patient/Observation.rs")),
                bData));
        cases.add(new Case(
                "patient/*.read: $everything of another patient",
                403,
                () -> get("Patient/" + B + "/$everything", patientA("patient/*.read")),
                bData));
        cases.add(new Case(
                "patient/*.read: _revinclude on Patient search stays in the compartment",
                200,
                () -> get("Patient?_revinclude=*", patientA("patient/*.read")),
                bData));
        cases.add(new Case(
                "patient/*.read: _has on Patient search stays in the compartment",
                200,
                () -> get("Patient?_has:Observation:patient:code=" + SIZE, patientA("patient/*.read")),
                bData));
        cases.add(new Case(
                "patient/*.read: another patient's history",
                403,
                () -> get("Patient/" + B + "/_history", patientA("patient/*.read")),
                bData));
        cases.add(new Case(
                "patient/Observation.rs: another patient's Observation history",
                403,
                () -> get("Observation/" + OBS_B + "/_history", patientA("patient/Observation.rs")),
                bData));
        cases.add(new Case(
                "patient/*.read without a patient claim",
                403,
                () -> get("Observation?patient=" + A, user("patient/*.read")),
                List.of("\"id\":\"" + OBS_A + "\"", "\"id\":\"" + OBS_B + "\"")));
        cases.add(new Case(
                "patient/*.read: Practitioner outside the compartment",
                403,
                () -> get("Practitioner/fhircat-dr", patientA("patient/*.read")),
                List.of(PRACTITIONER_NAME)));
        // ---- every resource returned is checked, not the type in the URL ----
        cases.add(new Case(
                "Observation-only token: _include=Observation:subject",
                403,
                () -> get("Observation?code=" + SIZE + "&_include=Observation:subject", user("user/Observation.read")),
                anyPatient));
        cases.add(new Case(
                "Observation-only token: _include=*",
                403,
                () -> get("Observation?code=" + SIZE + "&_include=*", user("user/Observation.rs")),
                anyPatient));
        cases.add(new Case(
                "Observation-only token: _include:iterate=*",
                403,
                () -> get("Observation?code=" + SIZE + "&_include:iterate=*", user("user/Observation.read")),
                anyPatient));
        cases.add(new Case(
                "Observation-only token: _include of the performer",
                403,
                () -> get(
                        "Observation?_id=" + OBS_B + "&_include=Observation:performer", user("user/Observation.read")),
                List.of(PRACTITIONER_NAME)));
        cases.add(new Case(
                "patient/Observation.rs: _include of the patient itself",
                403,
                () -> get("Observation?_include=Observation:patient", patientA("patient/Observation.rs")),
                List.of(A_NAME, B_NAME, "\"family\"")));
        cases.add(new Case(
                "Observation-only token: Patient search with _revinclude=*",
                403,
                () -> get("Patient?_revinclude=*", user("user/Observation.read")),
                anyPatient));
        cases.add(new Case(
                "Observation-only token: $everything",
                403,
                () -> get("Patient/" + A + "/$everything", user("user/Observation.read")),
                anyPatient));
        cases.add(new Case(
                "Observation-only token: system search _type=Patient",
                400,
                () -> get("?_type=Patient,Observation", user("user/Observation.read")),
                anyPatient));
        cases.add(new Case(
                "Observation-only token: system history",
                403,
                () -> get("_history", user("user/Observation.read")),
                anyPatient));
        cases.add(new Case(
                "Observation-only token: Patient type history",
                403,
                () -> get("Patient/_history", user("user/Observation.read")),
                anyPatient));
        cases.add(new Case(
                "Observation-only token: a Patient's version",
                403,
                () -> get("Patient/" + A + "/_history/1", user("user/Observation.read")),
                anyPatient));
        cases.add(new Case(
                "Observation-only token: chained search on the patient's name",
                403,
                () -> get("Observation?subject.name=" + A_NAME, user("user/Observation.read")),
                List.of("\"id\":\"" + OBS_A + "\"")));
        cases.add(new Case(
                "Observation-only token: typed chain subject:Patient.birthdate",
                403,
                () -> get("Observation?subject:Patient.birthdate=1961-02-03", user("user/Observation.read")),
                List.of("\"id\":\"" + OBS_A + "\"")));
        cases.add(new Case(
                "Observation-only token: chain of chains",
                403,
                () -> get("Observation?subject:Patient.general-practitioner.name=x", user("user/Observation.read")),
                List.of("\"id\":\"" + OBS_A + "\"")));
        cases.add(new Case(
                "Patient-only token: _has:Observation reveals who has data",
                403,
                () -> get("Patient?_has:Observation:patient:code=" + SIZE, user("user/Patient.read")),
                List.of(A_NAME, B_NAME, "\"family\"")));
        cases.add(new Case(
                "Condition-only token: nested _has",
                403,
                () -> get("Condition?_has:Observation:subject:_has:Patient:link:name=x", user("user/Condition.read")),
                List.of("\"id\":\"" + OBS_A + "\"")));
        cases.add(new Case(
                "Observation-only token in a batch GET of a Patient",
                200,
                () -> fhir(
                        "POST",
                        "",
                        """
                        {"resourceType": "Bundle", "type": "batch", "entry": [{"request": {"method": "GET", "url": "Patient/%s"}}]}"""
                                .formatted(A),
                        user("user/Observation.read")),
                anyPatient));
        // ---- the type comes from HAPI's parsed request ----
        cases.add(new Case(
                "percent-encoded resource type",
                403,
                () -> get("%50atient/" + A, user("user/Observation.read")),
                anyPatient));
        cases.add(new Case(
                "percent-encoded type in a search",
                403,
                () -> get("Pati%65nt?name=" + A_NAME, user("user/Observation.read")),
                anyPatient));
        cases.add(new Case(
                "dot segments towards another type",
                400,
                () -> get("Observation/../Patient/" + A, user("user/Observation.read")),
                anyPatient));
        cases.add(new Case(
                "matrix parameter in the type segment",
                400,
                () -> get("Patient;x=Observation/" + A, user("user/Observation.read")),
                anyPatient));
        // ---- writes ----
        cases.add(new Case(
                "patient/*.cruds writes an Observation for another patient",
                403,
                () -> fhir("POST", "Observation", observation("ignored", B, null), patientA("patient/*.cruds")),
                bData));
        cases.add(new Case(
                "patient/*.write updates another patient",
                403,
                () -> fhir(
                        "PUT",
                        "Patient/" + B,
                        """
                        {"resourceType": "Patient", "id": "%s", "name": [{"family": "Changed"}]}"""
                                .formatted(B),
                        patientA("patient/*.write")),
                bData));
        cases.add(new Case(
                "patient/*.cruds deletes another patient's Observation",
                403,
                () -> fhir("DELETE", "Observation/" + OBS_B, null, patientA("patient/*.cruds")),
                bData));
        cases.add(new Case(
                "Observation write scope creates a Patient",
                403,
                () -> fhir(
                        "POST",
                        "Patient",
                        "{\"resourceType\": \"Patient\", \"name\": [{\"family\": \"Intruder\"}]}",
                        user("user/Observation.write")),
                anyPatient));
        cases.add(new Case(
                "v2 update without create: POST",
                403,
                () -> fhir("POST", "Observation", observation("ignored", A, null), user("user/Observation.u")),
                bData));
        cases.add(new Case(
                "read-only token in a transaction",
                403,
                () -> fhir(
                        "POST",
                        "",
                        """
                        {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {"resourceType": "Patient"},
                          "request": {"method": "POST", "url": "Patient"}}]}""",
                        user("user/*.read")),
                anyPatient));
        cases.add(new Case(
                "Observation write scope: a Patient inside a transaction",
                403,
                () -> fhir(
                        "POST",
                        "",
                        """
                        {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {"resourceType": "Patient"},
                          "request": {"method": "POST", "url": "Patient"}}]}""",
                        user("user/Observation.write")),
                anyPatient));
        cases.add(new Case(
                "write with a token that has no scope at all",
                403,
                () -> fhir("POST", "Observation", observation("ignored", A, null), user("openid")),
                bData));
        // ---- server-level and destructive operations: not registered (400), or admin scope only (403) ----
        String parameters =
                """
                {"resourceType": "Parameters", "parameter": [
                  {"name": "source-patient", "valueReference": {"reference": "Patient/%s"}},
                  {"name": "target-patient", "valueReference": {"reference": "Patient/%s"}}]}"""
                        .formatted(B, A);
        cases.add(new Case(
                "Patient/$merge with Patient scopes (not registered)",
                400,
                () -> fhir("POST", "Patient/$merge", parameters, user("user/Patient.read", "user/Patient.write")),
                bData));
        cases.add(new Case(
                "Patient/$hapi.fhir.merge with every clinical scope",
                403,
                () -> fhir("POST", "Patient/$hapi.fhir.merge", parameters, user("user/*.*")),
                bData));
        cases.add(new Case(
                "$replace-references with user/*.write (not registered)",
                400,
                () -> fhir(
                        "POST",
                        "$replace-references",
                        """
                        {"resourceType": "Parameters", "parameter": [{"name": "source-reference-id", "valueString": "Patient/%s"},
                          {"name": "target-reference-id", "valueString": "Patient/%s"}]}"""
                                .formatted(B, A),
                        user("user/*.write")),
                bData));
        cases.add(new Case(
                "$hapi.fhir.replace-references with system/*.cruds",
                403,
                () -> fhir(
                        "POST",
                        "$hapi.fhir.replace-references",
                        """
                        {"resourceType": "Parameters", "parameter": [{"name": "source-reference-id", "valueString": "Patient/%s"},
                          {"name": "target-reference-id", "valueString": "Patient/%s"}]}"""
                                .formatted(B, A),
                        user("system/*.cruds")),
                bData));
        cases.add(new Case(
                "$reindex with user/*.write (not registered)",
                400,
                () -> fhir("POST", "$reindex", "{\"resourceType\": \"Parameters\"}", user("user/*.write")),
                bData));
        cases.add(new Case(
                "$mark-all-resources-for-reindexing with user/*.write",
                403,
                () -> fhir(
                        "POST",
                        "$mark-all-resources-for-reindexing",
                        "{\"resourceType\": \"Parameters\"}",
                        user("user/*.write")),
                bData));
        cases.add(new Case(
                "$expunge at the server with user/*.cruds",
                403,
                () -> fhir(
                        "POST",
                        "$expunge",
                        """
                        {"resourceType": "Parameters", "parameter": [{"name": "expungeEverything", "valueBoolean": true}]}""",
                        user("user/*.cruds")),
                bData));
        cases.add(new Case(
                "$expunge of a patient with patient/*.*",
                403,
                () -> fhir(
                        "POST",
                        "Patient/" + A + "/$expunge",
                        "{\"resourceType\": \"Parameters\"}",
                        patientA("patient/*.*")),
                bData));
        cases.add(new Case(
                "terminology upload with the authoring scope (not registered)",
                400,
                () -> fhir(
                        "POST",
                        "CodeSystem/$upload-external-code-system",
                        """
                        {"resourceType": "Parameters", "parameter": [{"name": "system", "valueUri": "http://loinc.org"}]}""",
                        user(TestKeys.AUTHORING_SCOPE, "user/*.write")),
                bData));
        cases.add(new Case(
                "$apply-codesystem-delta-add with the authoring scope (not registered)",
                400,
                () -> fhir(
                        "POST",
                        "CodeSystem/$apply-codesystem-delta-add",
                        "{\"resourceType\": \"Parameters\"}",
                        user(TestKeys.AUTHORING_SCOPE)),
                bData));
        cases.add(new Case(
                "bulk $export with user/*.read (not registered)",
                400,
                () -> fhir("GET", "$export", null, user("user/*.read")),
                anyPatient));
        cases.add(new Case(
                "$meta-add on a patient with user/*.write",
                403,
                () -> fhir(
                        "POST",
                        "Patient/" + A + "/$meta-add",
                        """
                        {"resourceType": "Parameters", "parameter": [{"name": "meta", "valueMeta": {"tag": [{"code": "x"}]}}]}""",
                        user("user/*.write")),
                bData));
        cases.add(new Case(
                "$get-resource-counts with user/*.read",
                403,
                () -> get("$get-resource-counts", user("user/*.read")),
                bData));
        // ---- limits on /fhir, as on the hooks ----
        String writer = user("user/*.read", "user/*.write");
        cases.add(new Case(
                "gzip body inflating to 100 MB",
                415,
                () -> Http.sendBody(
                        "POST",
                        base() + "/fhir/Observation",
                        java.net.http.HttpRequest.BodyPublishers.ofByteArray(gzipBomb()),
                        Map.of(
                                "Content-Type",
                                "application/fhir+json",
                                "Content-Encoding",
                                "gzip",
                                "Authorization",
                                "Bearer " + writer)),
                bData));
        cases.add(new Case(
                "deflate-encoded body",
                415,
                () -> Http.sendBody(
                        "POST",
                        base() + "/fhir/Observation",
                        java.net.http.HttpRequest.BodyPublishers.ofByteArray(new byte[] {120, -100, 3, 0, 0, 0, 0, 1}),
                        Map.of(
                                "Content-Type",
                                "application/fhir+json",
                                "Content-Encoding",
                                "deflate",
                                "Authorization",
                                "Bearer " + writer)),
                bData));
        cases.add(new Case(
                "a 6 MB Observation",
                413,
                () -> fhir(
                        "POST",
                        "Observation",
                        observation("ignored", A, null)
                                .replace(
                                        "\"status\"",
                                        "\"note\": [{\"text\": \"" + "x".repeat(6 * 1024 * 1024) + "\"}], \"status\""),
                        writer),
                bData));
        cases.add(new Case(
                "a 6 MB body streamed without a length",
                413,
                () -> Http.sendBody(
                        "POST",
                        base() + "/fhir/Observation",
                        java.net.http.HttpRequest.BodyPublishers.ofInputStream(
                                () -> new java.io.ByteArrayInputStream(observation("ignored", A, null)
                                        .replace(
                                                "\"status\"",
                                                "\"note\": [{\"text\": \"" + "x".repeat(6 * 1024 * 1024)
                                                        + "\"}], \"status\"")
                                        .getBytes(java.nio.charset.StandardCharsets.UTF_8))),
                        Map.of("Content-Type", "application/fhir+json", "Authorization", "Bearer " + writer)),
                bData));
        cases.add(new Case(
                "a transaction of 1 001 entries",
                413,
                () -> fhir(
                        "POST",
                        "",
                        """
                {"resourceType": "Bundle", "type": "transaction", "entry": [%s]}"""
                                .formatted(
                                        String.join(
                                                ",",
                                                java.util.Collections.nCopies(
                                                        1001,
                                                        """
                {"resource": {"resourceType": "Basic", "code": {"text": "flood"}}, "request": {"method": "POST", "url": "Basic"}}"""))),
                        writer),
                bData));
        cases.add(new Case(
                "a batch of 1 001 entries",
                413,
                () -> fhir(
                        "POST",
                        "",
                        """
                {"resourceType": "Bundle", "type": "batch", "entry": [%s]}"""
                                .formatted(
                                        String.join(
                                                ",",
                                                java.util.Collections.nCopies(
                                                        1001,
                                                        """
                {"resource": {"resourceType": "Basic", "code": {"text": "flood"}}, "request": {"method": "POST", "url": "Basic"}}"""))),
                        writer),
                bData));
        cases.add(new Case(
                "a search with six _include values",
                400,
                () -> get(
                        "Observation?_include=Observation:subject"
                                + "&_include=Observation:patient&_include=Observation:performer&_include=Observation:encounter"
                                + "&_include=Observation:focus&_include:iterate=Observation:has-member",
                        user("user/*.read")),
                bData));
        cases.add(new Case(
                "hook body with a duplicate key",
                400,
                () -> hook(
                        """
                {"hook": "patient-view", "hookInstance": "d-u-p-1", "context": {"userId": "Practitioner/x",
                 "patientId": "crlm-demo-01", "patientId": "crlm-demo-02"}}"""),
                List.of("Exception")));
        cases.add(new Case(
                "hook body with the hook named twice",
                400,
                () -> hook(
                        """
                {"hook": "patient-view", "hook": "order-sign", "hookInstance": "d-u-p-2",
                 "context": {"userId": "Practitioner/x", "patientId": "crlm-demo-01"}}"""),
                List.of("Exception")));
        // ---- log forging: untrusted values are logged on one line ----
        cases.add(new Case(
                "CDS client JWT whose iss forges a log line",
                401,
                () -> {
                    String url = base() + "/cds-services/crlm-ablation-patient-view";
                    return Http.postJson(
                            url,
                            CdsPatientView.BODY,
                            keys().cdsJwt(
                                            com.nimbusds.jose.JWSAlgorithm.RS384,
                                            keys().rsa.getKeyID(),
                                            TestKeys.claims(
                                                            url,
                                                            java.time.Instant.now(),
                                                            java.time.Instant.now()
                                                                    .plusSeconds(300))
                                                    .issuer(
                                                            "https://evil.example/\n2026-01-01T00:00:00Z  INFO [] FORGED-ISS CDS client keys ready\r"),
                                            null));
                },
                List.of("FORGED-ISS"),
                () -> noForgedLine("FORGED-ISS")));
        cases.add(new Case(
                "CDS client JWT whose kid forges a log line",
                401,
                () -> {
                    String url = base() + "/cds-services/crlm-ablation-patient-view";
                    return Http.postJson(
                            url,
                            CdsPatientView.BODY,
                            keys().cdsJwt(
                                            com.nimbusds.jose.JWSAlgorithm.RS384,
                                            "x\n2026-01-01T00:00:00Z  WARN [] FORGED-KID\u001b[2J" + "k".repeat(5000),
                                            TestKeys.claims(
                                                    url,
                                                    java.time.Instant.now(),
                                                    java.time.Instant.now().plusSeconds(300)),
                                            null));
                },
                List.of("FORGED-KID"),
                () -> {
                    noForgedLine("FORGED-KID");
                    assertThat(logs.list.stream()
                                    .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                                    .filter(m -> m.contains("FORGED-KID")))
                            .allSatisfy(line -> assertThat(line.length()).isLessThan(1000));
                }));
        // ---- card text: the record's words are shown, never rendered as markdown ----
        cases.add(new Case(
                "a record whose result names inject markdown into the card",
                200,
                this::markdownInjectionIntoACard,
                List.of("[click](", "![x](", "<script>", "\\n#", "](http://evil")));
        // ---- publishing: documentation URLs become card links ----
        for (String url : List.of(
                "javascript:alert(document.cookie)",
                "data:text/html;base64,PHNjcmlwdD4=",
                "http://doi.org/10.1002/wjs.12616")) {
            cases.add(new Case(
                    "PlanDefinition with a documentation URL " + url.substring(0, url.indexOf(':')) + ":",
                    422,
                    () -> {
                        String author = user("user/*.read", TestKeys.AUTHORING_SCOPE);
                        String plan = get("PlanDefinition/crlm-rule-r1", author).body();
                        assertThat(plan).contains("https://doi.org/10.1002/wjs.12616");
                        return fhir(
                                "PUT",
                                "PlanDefinition/crlm-rule-r1",
                                plan.replace("https://doi.org/10.1002/wjs.12616", url),
                                author);
                    },
                    List.of("Exception")));
        }
        // ---- the CQL budget: what a published library may cost ----
        cases.add(new Case(
                "a library nesting an expression 50 000 brackets deep",
                422,
                () -> publishProbe(
                        "define \"Deep\":\n  " + "(".repeat(50_000) + "1" + ")".repeat(50_000),
                        "BudgetProbe line 4, column",
                        "max-nesting-depth"),
                List.of("Exception", "StackOverflow")));
        cases.add(new Case(
                "a library chaining 40 000 additions",
                422,
                () -> publishProbe(
                        "define \"Long\":\n  1" + " + 1".repeat(40_000),
                        "BudgetProbe line 4, column",
                        "max-expression-depth"),
                List.of("Exception", "StackOverflow")));
        cases.add(new Case(
                "a library with a catastrophic regular expression",
                422,
                () -> publishProbe(
                        "define \"Name\": 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'\n"
                                + "define \"Odd\": Matches(\"Name\", '(a+)+$')",
                        "BudgetProbe line 4, column",
                        "backtracks exponentially"),
                List.of("Exception")));
        // ---- management endpoints and the console's patient data ----
        List<String> metrics = List.of("jvm_memory", "cds_hook", "http_server_requests", "\"measurements\"");
        cases.add(new Case(
                "Prometheus metrics without a token",
                401,
                () -> Http.get(base() + "/actuator/prometheus", null),
                metrics));
        cases.add(new Case(
                "Prometheus metrics with a clinical token",
                403,
                () -> Http.get(base() + "/actuator/prometheus", user("user/*.*")),
                metrics));
        cases.add(new Case(
                "a metric with the authoring scope",
                403,
                () -> Http.get(base() + "/actuator/metrics/jvm.memory.used", user(TestKeys.AUTHORING_SCOPE)),
                metrics));
        cases.add(new Case(
                "console patient list with the authoring scope only",
                403,
                () -> Http.get(base() + "/console/api/patients", user(TestKeys.AUTHORING_SCOPE)),
                List.of(A_NAME, B_NAME, "1961-02-03")));
        cases.add(new Case(
                "console patient list with authoring and Observation scopes",
                403,
                () -> Http.get(
                        base() + "/console/api/patients", user(TestKeys.AUTHORING_SCOPE, "user/Observation.read")),
                List.of(A_NAME, B_NAME, "1961-02-03")));
        cases.add(new Case(
                "console run on a patient with authoring and a patient-launch scope",
                403,
                () -> Http.postJson(
                        base() + "/console/api/run",
                        "{\"patientId\": \"" + B + "\"}",
                        patientA(TestKeys.AUTHORING_SCOPE, "patient/*.read")),
                List.of(B_NAME, "1959-09-09")));
        cases.add(new Case(
                "console run on a patient not labelled as test data",
                403,
                () -> Http.postJson(
                        base() + "/console/api/run",
                        """
                        {"serviceId": "crlm-ablation-patient-view", "patientId": "%s"}"""
                                .formatted(B),
                        user(TestKeys.AUTHORING_SCOPE, "user/*.read")),
                List.of(B_NAME, "1959-09-09")));
        cases.add(new Case(
                "forged Host header in Bundle links",
                200,
                () -> rawGet("/fhir/Observation?_id=" + OBS_A, "evil.example", user("user/Observation.read")),
                List.of("evil.example")));
        // ---- the bearer token itself ----
        cases.add(new Case("no token", 401, () -> get("Observation/" + OBS_A, null), bData));
        cases.add(new Case(
                "token without aud",
                401,
                () -> get("Observation/" + OBS_A, keys().fhirToken(c -> c.audience((String) null), "user/*.read")),
                bData));
        cases.add(new Case(
                "token for another audience",
                401,
                () -> get(
                        "Observation/" + OBS_A,
                        keys().fhirToken(c -> c.audience("https://other.example/fhir"), "user/*.read")),
                bData));
        cases.add(new Case(
                "token without exp",
                401,
                () -> get("Observation/" + OBS_A, keys().fhirToken(c -> c.expirationTime(null), "user/*.read")),
                bData));
        cases.add(new Case(
                "token living a day",
                401,
                () -> get(
                        "Observation/" + OBS_A,
                        keys().fhirToken(
                                        c -> c.expirationTime(java.util.Date.from(
                                                java.time.Instant.now().plusSeconds(86_400))),
                                        "user/*.read")),
                bData));
        cases.add(new Case(
                "token from a foreign issuer",
                401,
                () -> get(
                        "Observation/" + OBS_A, keys().fhirToken(c -> c.issuer("https://evil.example"), "user/*.read")),
                bData));
        cases.add(new Case(
                "token issuer differing by a trailing slash",
                401,
                () -> get(
                        "Observation/" + OBS_A,
                        keys().fhirToken(c -> c.issuer(TestKeys.FHIR_ISSUER + "/"), "user/*.read")),
                bData));
        cases.add(new Case(
                "expired token",
                401,
                () -> get(
                        "Observation/" + OBS_A,
                        keys().fhirToken(
                                        c -> c.issueTime(java.util.Date.from(
                                                        java.time.Instant.now().minusSeconds(900)))
                                                .expirationTime(java.util.Date.from(
                                                        java.time.Instant.now().minusSeconds(300))),
                                        "user/*.read")),
                bData));
        cases.add(new Case(
                "token signed by an unknown key under the known kid",
                401,
                () -> get(
                        "Observation/" + OBS_A,
                        keys().signWith(
                                        keys().strangerKey,
                                        new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS256)
                                                .keyID(keys().fhirApiKey.getKeyID())
                                                .build(),
                                        new com.nimbusds.jwt.JWTClaimsSet.Builder()
                                                .issuer(TestKeys.FHIR_ISSUER)
                                                .audience(TestKeys.FHIR_AUDIENCE)
                                                .claim("scope", "user/*.read")
                                                .expirationTime(java.util.Date.from(
                                                        java.time.Instant.now().plusSeconds(300)))
                                                .build())),
                bData));
        cases.add(new Case(
                "unsigned token (alg none)",
                401,
                () -> get(
                        "Observation/" + OBS_A,
                        new com.nimbusds.jwt.PlainJWT(new com.nimbusds.jwt.JWTClaimsSet.Builder()
                                        .issuer(TestKeys.FHIR_ISSUER)
                                        .audience(TestKeys.FHIR_AUDIENCE)
                                        .claim("scope", "user/*.read")
                                        .expirationTime(java.util.Date.from(
                                                java.time.Instant.now().plusSeconds(300)))
                                        .build())
                                .serialize()),
                bData));
        return cases.stream();
    }

    /**
     * Publishes a new library holding the given definitions and returns the answer; its
     * diagnostics must name the place (library:line:) and the bound crossed.
     */
    private Http.Response publishProbe(String definitions, String place, String bound) {
        String cql = "library BudgetProbe version '9.16.0'\n\n" + definitions + "\n";
        String library =
                """
                {"resourceType": "Library", "id": "fhircat-budget-probe", "url": "http://crlm-cds.org/fhir/Library/BudgetProbe",
                 "name": "BudgetProbe", "version": "9.16.0", "status": "active",
                 "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}]},
                 "content": [{"contentType": "text/cql", "data": "%s"}]}"""
                        .formatted(java.util.Base64.getEncoder()
                                .encodeToString(cql.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        // The deadline under test is the server's; this only keeps a regression from hanging the build.
        Http.Response response = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(120),
                () -> fhir(
                        "PUT", "Library/fhircat-budget-probe", library, user("user/*.read", TestKeys.AUTHORING_SCOPE)));
        String diagnostics = response.json().findValuesAsText("diagnostics").toString();
        assertThat(diagnostics).as(response.body()).contains(place, bound);
        return response;
    }

    /** What a record's text tries to make of a card: a link, an image, HTML and a heading. */
    static final String INJECTION =
            "[click](javascript:alert(1)) ![x](http://evil/) <script>alert(1)</script>\n# heading";

    /**
     * Order-sign for a KRAS-mutated patient (scenario 002) whose variant result is named by the
     * injection: the R1 card quotes the name, escaped, so it shows as the text it is.
     */
    private Http.Response markdownInjectionIntoACard() {
        org.crlm.cds.authoring.RuleTestCase scenario = org.crlm.cds.authoring.RuleTestCase.load(
                        org.crlm.cds.authoring.RuleTestCase.DIR.resolve(
                                "002-kras-variant-geneid-bare-code-dna-change.json"))
                .relativeTo(java.time.LocalDate.now(java.time.ZoneOffset.UTC));
        List<org.hl7.fhir.instance.model.api.IBaseResource> record = scenario.recordResources();
        int named = 0;
        for (org.hl7.fhir.instance.model.api.IBaseResource resource : record) {
            if (resource instanceof org.hl7.fhir.r4.model.Observation obs
                    && obs.getCode().hasCoding("http://loinc.org", "69548-6")) {
                obs.getCode().getCodingFirstRep().setDisplay(INJECTION);
                obs.getCode().setText(INJECTION);
                named++;
            }
        }
        assertThat(named).as("the variant result to rename").isEqualTo(1);
        org.crlm.cds.support.CdsClient cds = new org.crlm.cds.support.CdsClient(base(), keys());
        Http.Response response = cds.call(
                scenario.serviceId(),
                scenario.request(org.crlm.cds.authoring.BundlePrefetch.full(
                        cds.prefetchTemplates().get(scenario.serviceId()), scenario.patientId(), record)));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        JsonNode r1 = null;
        for (JsonNode card : response.json().path("cards")) {
            if ("R1".equals(card.path("source").path("topic").path("code").asText())) {
                r1 = card;
            }
        }
        assertThat(r1).as("the R1 card: " + response.body()).isNotNull();
        String detail = r1.path("detail").asText();
        assertThat(detail)
                .as("the name is quoted, escaped, on the card's first line")
                .contains("\\[click\\](javascript:alert(1)) \\!\\[x\\](http\\://evil/) "
                        + "\\<script\\>alert(1)\\</script\\> \\# heading")
                .doesNotContain("[click](", "![x](", "<script>", "\n#", "\n# ");
        assertThat(detail.split("\n\n")[0]).startsWith("**This patient:** KRAS c.35G\\>A (mutated)");
        return response;
    }

    private static byte[] bomb;

    /** 100 MB of zeros, gzip-compressed to about 100 kB. */
    private static synchronized byte[] gzipBomb() {
        if (bomb == null) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            try (java.util.zip.GZIPOutputStream gzip = new java.util.zip.GZIPOutputStream(out)) {
                byte[] zeros = new byte[1024 * 1024];
                for (int i = 0; i < 100; i++) {
                    gzip.write(zeros);
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            bomb = out.toByteArray();
        }
        return bomb;
    }

    /** A GET sent over a plain socket, so the Host header can be anything. */
    private Http.Response rawGet(String path, String host, String token) {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", keys().appPort)) {
            socket.setSoTimeout(60_000);
            String request = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAccept: application/fhir+json\r\n"
                    + "Authorization: Bearer " + token + "\r\nConnection: close\r\n\r\n";
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String response =
                    new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int status = Integer.parseInt(response.substring(9, 12));
            String body = response.substring(response.indexOf("\r\n\r\n") + 4);
            if (response.substring(0, response.indexOf("\r\n\r\n"))
                    .toLowerCase(java.util.Locale.ROOT)
                    .contains("transfer-encoding: chunked")) {
                body = dechunk(body);
            }
            return new Http.Response(status, body, Map.of());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String dechunk(String chunked) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (true) {
            int eol = chunked.indexOf("\r\n", i);
            int size = Integer.parseInt(chunked.substring(i, eol).trim(), 16);
            if (size == 0) {
                return out.toString();
            }
            out.append(chunked, eol + 2, eol + 2 + size);
            i = eol + 2 + size + 2;
        }
    }

    private Http.Response hook(String body) {
        String url = base() + "/cds-services/crlm-ablation-patient-view";
        return Http.postJson(url, body, keys().cdsJwt(url));
    }

    @Test
    void theCatalogueHasAtLeastFortyAttacks() {
        assertThat(catalogue().count()).isGreaterThanOrEqualTo(40);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalogue")
    void isRefusedOrHeldToTheGrantAndWritesNothing(Case attack) {
        Map<String, Long> before = counts();
        String versionA = version("Patient/" + A);
        String versionB = version("Patient/" + B);

        Http.Response response = attack.send().get();

        assertThat(response.status()).as(attack.name() + ": " + response.body()).isEqualTo(attack.status());
        for (String secret : attack.mustNotContain()) {
            assertThat(response.body().replace(" ", ""))
                    .as(attack.name() + ": leaked " + secret)
                    .doesNotContain(secret.replace(" ", ""));
        }
        if (attack.status() >= 400 && attack.status() != 401) {
            JsonNode outcome = response.json();
            assertThat(outcome.path("resourceType").asText()).as(attack.name()).isEqualTo("OperationOutcome");
        }
        assertThat(response.body()).as("no stack trace").doesNotContain("Exception", "\tat ", ".java:");
        assertThat(counts()).as("nothing written").isEqualTo(before);
        assertThat(version("Patient/" + A)).isEqualTo(versionA);
        assertThat(version("Patient/" + B)).isEqualTo(versionB);
        attack.afterwards().run();
    }

    /** A patient-view request for a demo patient. */
    static final class CdsPatientView {
        static final String BODY =
                """
                {"hook": "patient-view", "hookInstance": "0b1c2d3e-forge", "context": {"userId": "Practitioner/x",
                 "patientId": "crlm-demo-01"}}""";
    }

    /** What a legitimate token still gets: the catalogue's refusals are not a closed door. */
    @Test
    void thePatientLaunchTokenReadsItsOwnRecordOnly() {
        String token = patientA("patient/*.read");
        Http.Response patient = get("Patient/" + A, token);
        assertThat(patient.status()).isEqualTo(200);
        assertThat(patient.body()).contains(A_NAME);
        Http.Response observations = get("Observation?code=" + SIZE, token);
        assertThat(observations.status()).as(observations.body()).isEqualTo(200);
        assertThat(observations.body()).contains(OBS_A).doesNotContain(OBS_B);
        Http.Response everything = get("Patient/" + A + "/$everything", token);
        assertThat(everything.status()).as(everything.body()).isEqualTo(200);
        assertThat(everything.body()).contains(A_NAME, OBS_A).doesNotContain(B_NAME, OBS_B);
        Http.Response withPatient = get("Observation?_include=Observation:patient", token);
        assertThat(withPatient.status()).as(withPatient.body()).isEqualTo(200);
        assertThat(withPatient.body()).contains(A_NAME).doesNotContain(B_NAME);
    }

    @Test
    void probesStayOpenMetricsNeedTheMetricsScopeAndNoProductHeader() {
        assertThat(Http.get(base() + "/actuator/health/liveness", null).status())
                .isEqualTo(200);
        assertThat(Http.get(base() + "/actuator/health/readiness", null).status())
                .isEqualTo(200);
        Http.Response metrics = Http.get(base() + "/actuator/prometheus", user(TestKeys.METRICS_SCOPE));
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body()).contains("jvm_memory");
        Http.Response read = get("Observation/" + OBS_A, user("user/*.read"));
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.header("X-Powered-By")).isNull();
        Http.Response console =
                Http.get(base() + "/console/api/patients", user(TestKeys.AUTHORING_SCOPE, "user/Patient.read"));
        assertThat(console.status()).isEqualTo(200);
        assertThat(console.body())
                .as("test patients only (HTEST)")
                .contains(A_NAME)
                .doesNotContain(B_NAME);
    }

    @Test
    void anObservationTokenReadsObservationsOfEveryPatientButNoPatient() {
        Http.Response observations = get("Observation?_id=" + OBS_A + "," + OBS_B, user("user/Observation.rs"));
        assertThat(observations.status()).as(observations.body()).isEqualTo(200);
        assertThat(observations.body()).contains(OBS_A, OBS_B).doesNotContain(A_NAME, B_NAME);
        assertThat(get("Observation?subject:Patient=" + A, user("user/Observation.read"))
                        .status())
                .isEqualTo(200);
    }

    @Test
    void unknownKidsDoNotDownloadTheKeysEachTime() {
        get("Observation/" + OBS_A, user("user/*.read")); // keys cached
        int before = keys().downloads
                .getOrDefault("/auth/jwks.json", new java.util.concurrent.atomic.AtomicInteger())
                .get();
        for (int i = 0; i < 20; i++) {
            String token = keys().signWith(
                            keys().strangerKey,
                            new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS256)
                                    .keyID("made-up-" + i)
                                    .build(),
                            new com.nimbusds.jwt.JWTClaimsSet.Builder()
                                    .issuer(TestKeys.FHIR_ISSUER)
                                    .audience(TestKeys.FHIR_AUDIENCE)
                                    .expirationTime(java.util.Date.from(
                                            java.time.Instant.now().plusSeconds(300)))
                                    .build());
            assertThat(get("Observation/" + OBS_A, token).status()).isEqualTo(401);
        }
        int after = keys().downloads.get("/auth/jwks.json").get();
        // The rate limiter lets at most two downloads through per interval (nimbus RateLimitedJWKSetSource).
        assertThat(after - before).as("JWKS downloads for 20 unknown kids").isLessThanOrEqualTo(2);
    }

    @Test
    void smartDiscoveryAndTheCapabilityStatementNameTheOAuthServer() {
        Http.Response smart = Http.get(base() + "/fhir/.well-known/smart-configuration", null);
        assertThat(smart.status()).isEqualTo(200);
        assertThat(smart.json().path("issuer").asText()).isEqualTo(TestKeys.FHIR_ISSUER);
        assertThat(smart.json().path("capabilities").toString()).contains("permission-patient", "permission-v2");
        JsonNode security = get("metadata", null).json().path("rest").get(0).path("security");
        assertThat(security.path("service")
                        .get(0)
                        .path("coding")
                        .get(0)
                        .path("code")
                        .asText())
                .isEqualTo("SMART-on-FHIR");
        assertThat(security.path("extension").toString())
                .contains("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
    }

    private Map<String, Long> counts() {
        String reader = user("user/*.read");
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String type : COUNTED) {
            counts.put(
                    type,
                    get(type + "?_summary=count", reader).json().path("total").asLong(-1));
        }
        return counts;
    }

    private String version(String path) {
        return get(path, user("user/*.read"))
                .json()
                .path("meta")
                .path("versionId")
                .asText();
    }
}
