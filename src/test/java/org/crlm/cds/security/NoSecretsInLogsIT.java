package org.crlm.cds.security;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.crlm.cds.authoring.BundlePrefetch;
import org.crlm.cds.authoring.RuleTestCase;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.FhirClients;
import org.crlm.cds.support.Http;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Runs the whole scenario suite, the demo patients through the store and an allow-listed
 * fhirServer, refused tokens and FHIR API calls, with our loggers at TRACE, and searches
 * every captured log line for the JWTs, access tokens, patient names and resource bodies used.
 */
class NoSecretsInLogsIT extends AppIntegrationTest {

    @Test
    void noTokenNoPatientNameAndNoResourceBodyIsEverLogged() {
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Logger ours = (Logger) LoggerFactory.getLogger("org.crlm.cds");
        Level before = ours.getLevel();
        root.addAppender(captured);
        ours.setLevel(Level.TRACE);
        Set<String> secrets = new LinkedHashSet<>();
        Set<String> names = new LinkedHashSet<>();
        try {
            exercise(secrets, names);
        } finally {
            root.detachAppender(captured);
            ours.setLevel(before);
        }

        List<String> lines = new ArrayList<>();
        for (ILoggingEvent event : captured.list) {
            StringBuilder line = new StringBuilder(event.getFormattedMessage());
            IThrowableProxy error = event.getThrowableProxy();
            if (error != null) {
                line.append('\n').append(ThrowableProxyUtil.asString(error));
            }
            lines.add(line.toString());
        }
        assertThat(lines).as("something was logged while the suite ran").isNotEmpty();
        // The call log: one line per CDS call, refusals with their reason, scanned like every other line below.
        List<String> callLines =
                lines.stream().filter(l -> l.startsWith("CDS call: ")).toList();
        assertThat(callLines.size())
                .as("one call-log line per CDS call")
                .isGreaterThanOrEqualTo(RuleTestCase.all().size() + 26 + 3);
        assertThat(callLines).anyMatch(l -> l.contains("status=401") && l.contains("reason=jwt BAD_SIGNATURE"));
        assertThat(callLines).anyMatch(l -> l.contains("status=200") && l.contains("rules=R"));
        assertThat(callLines).anyMatch(l -> l.contains("status=412") && l.contains("reason=incomplete at prefetch."));
        assertThat(callLines)
                .as("ids and codes only: no patient id")
                // (the random correlation id is left out: a UUID may contain "4711" by chance)
                .noneMatch(l -> {
                    String ids = l.replaceAll("correlationId=\\S+", "");
                    return ids.contains("crlm-demo-") || ids.contains("4711");
                });
        assertThat(secrets).hasSizeGreaterThan(100);
        assertThat(names).hasSizeGreaterThan(10);
        for (String line : lines) {
            for (String secret : secrets) {
                assertThat(line).as("a token in the log").doesNotContain(secret);
            }
            for (String name : names) {
                assertThat(line)
                        .as("a patient name in the log")
                        .doesNotContainPattern("\\b" + java.util.regex.Pattern.quote(name) + "\\b");
            }
            assertThat(line)
                    .as("a resource body in the log")
                    .doesNotContain("\"resourceType\"")
                    .doesNotContain("\"valueString\"");
        }
    }

    private void exercise(Set<String> secrets, Set<String> names) {
        CdsClient cds = new CdsClient(base(), keys()) {
            @Override
            public Http.Response call(String serviceId, String body) {
                String url = base() + "/cds-services/" + serviceId;
                String token = keys().cdsJwt(url);
                secrets.add(token);
                return Http.postJson(url, body, token);
            }
        };
        Map<String, Map<String, String>> templates = new LinkedHashMap<>();
        for (JsonNode service : cds.discovery().json().path("services")) {
            Map<String, String> t = new LinkedHashMap<>();
            service.path("prefetch")
                    .fields()
                    .forEachRemaining(e -> t.put(e.getKey(), e.getValue().asText()));
            templates.put(service.path("id").asText(), t);
        }
        for (RuleTestCase c : RuleTestCase.all()) {
            for (IBaseResource r : c.recordResources()) {
                if (r instanceof Patient p) {
                    p.getName().stream()
                            .map(HumanName::getFamily)
                            .filter(n -> n != null && n.length() >= 5)
                            .forEach(names::add);
                }
            }
            List<IBaseResource> record = c.recordResources();
            assertThat(cds.call(
                                    c.serviceId(),
                                    c.request(BundlePrefetch.full(templates.get(c.serviceId()), c.patientId(), record)))
                            .status())
                    .isEqualTo(200);
        }
        for (int n = 1; n <= 13; n++) {
            String patient = "crlm-demo-%02d".formatted(n);
            Patient p = FhirClients.clinician(base())
                    .read()
                    .resource(Patient.class)
                    .withId(patient)
                    .execute();
            p.getName().stream()
                    .map(HumanName::getFamily)
                    .filter(f -> f != null && f.length() >= 5)
                    .forEach(names::add);
            ObjectNode request = Http.JSON.createObjectNode();
            request.put("hook", "patient-view");
            request.put("hookInstance", java.util.UUID.randomUUID().toString());
            request.putObject("context").put("userId", "Practitioner/x").put("patientId", patient);
            assertThat(cds.call("crlm-ablation-patient-view", request).status()).isEqualTo(200);
            String accessToken = keys().fhirPatientToken(patient, "patient/*.read");
            secrets.add(accessToken);
            request.put("fhirServer", base() + "/fhir");
            request.putObject("fhirAuthorization")
                    .put("access_token", accessToken)
                    .put("token_type", "Bearer")
                    .put("expires_in", 300)
                    .put("scope", "patient/*.read")
                    .put("subject", "crlm-cds");
            assertThat(cds.call("crlm-ablation-patient-view", request).status()).isEqualTo(200);
        }
        ObjectNode unknownPatient = Http.JSON.createObjectNode();
        unknownPatient.put("hook", "patient-view");
        unknownPatient.put("hookInstance", java.util.UUID.randomUUID().toString());
        unknownPatient.putObject("context").put("userId", "Practitioner/x").put("patientId", "no-such-patient-4711");
        assertThat(cds.call("crlm-ablation-patient-view", unknownPatient).status())
                .isEqualTo(412);
        String forged = keys().signWith(
                        keys().strangerKey,
                        new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS384)
                                .keyID(keys().rsa.getKeyID())
                                .build(),
                        org.crlm.cds.support.TestKeys.claims(
                                        base() + "/cds-services/crlm-ablation-patient-view",
                                        java.time.Instant.now(),
                                        java.time.Instant.now().plusSeconds(60))
                                .build());
        secrets.add(forged);
        assertThat(Http.postJson(base() + "/cds-services/crlm-ablation-patient-view", "{}", forged)
                        .status())
                .isEqualTo(401);
        String fhirToken = keys().fhirToken("user/*.read");
        secrets.add(fhirToken);
        assertThat(Http.get(base() + "/fhir/Patient?_count=5", fhirToken).status())
                .isEqualTo(200);
    }
}
