package org.crlm.cds.fhirserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.crlm.cds.CrlmCdsApplication;
import org.crlm.cds.support.FhirClients;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.RepositoryCounts;
import org.crlm.cds.support.TestKeys;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.ValueSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.embedded.tomcat.TomcatWebServer;
import org.springframework.boot.web.servlet.context.ServletWebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The one-command demo (profile demo, embedded H2 file): readiness comes only after the rules
 * are loaded and warm; it listens on 127.0.0.1 only and says it runs unauthenticated; it takes
 * its own /fhir as a client's fhirServer and refuses a patient it does not hold (412); data
 * survives a restart; loading the repository a second time creates nothing new.
 */
@ExtendWith(OutputCaptureExtension.class)
class RestartAndDemoProfileIT {

    @TempDir
    Path dataDir;

    private ConfigurableApplicationContext start(int port) {
        return new SpringApplicationBuilder(CrlmCdsApplication.class)
                .profiles("demo")
                .run("--server.port=" + port, "--crlm.data-dir=" + dataDir.toAbsolutePath());
    }

    @Test
    void theDemoRestartsWithItsDataAndLoadsTheRepositoryOnlyOnce(CapturedOutput output) throws Exception {
        int port = TestKeys.freePort();
        String base = "http://127.0.0.1:" + port;
        List<Integer> readiness = Collections.synchronizedList(new ArrayList<>());
        // Polls readiness while the application starts in this thread.
        Thread probe = new Thread(() -> await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptions()
                .until(() -> {
                    int status =
                            Http.get(base + "/actuator/health/readiness", null).status();
                    readiness.add(status);
                    return status == 200;
                }));
        probe.start();
        String patientId;
        Map<String, Integer> firstCounts;
        try (ConfigurableApplicationContext app = start(port)) {
            probe.join(30_000);
            assertThat(readiness)
                    .as("readiness while loading, then up")
                    .contains(503)
                    .endsWith(200);
            assertThat(readiness.indexOf(503)).isLessThan(readiness.indexOf(200));
            assertThat(output).contains("DEMO MODE");
            TomcatWebServer web = (TomcatWebServer) ((ServletWebServerApplicationContext) app).getWebServer();
            assertThat((InetAddress) web.getTomcat().getConnector().getProperty("address"))
                    .isEqualTo(InetAddress.getByName("127.0.0.1"));

            Http.Response hook = Http.postJson(
                    base + "/cds-services/crlm-ablation-patient-view",
                    """
                    {"hook": "patient-view", "hookInstance": "0c2c5a6e-1111-4222-8333-444444444444",
                     "context": {"userId": "Practitioner/demo", "patientId": "crlm-demo-01"}}""",
                    null);
            assertThat(hook.status()).isEqualTo(200);
            assertThat(hook.body()).contains("\"R8\"");

            // The demo accepts its own /fhir as fhirServer, as a client on this machine addresses
            // it (the CDS Hooks Sandbox always sends one), and reads those queries from its store.
            for (String self : List.of(base + "/fhir", "http://localhost:" + port + "/fhir/")) {
                Http.Response viaSelf = Http.postJson(
                        base + "/cds-services/crlm-ablation-patient-view",
                        """
                        {"hook": "patient-view", "hookInstance": "%s", "fhirServer": "%s",
                         "fhirAuthorization": {"access_token": "opaque", "token_type": "Bearer", "expires_in": 300,
                                               "scope": "patient/*.read", "subject": "crlm-cds"},
                         "context": {"userId": "Practitioner/demo", "patientId": "crlm-demo-01"}}"""
                                .formatted(java.util.UUID.randomUUID(), self),
                        null);
                assertThat(viaSelf.status()).as(self + ": " + viaSelf.body()).isEqualTo(200);
                assertThat(viaSelf.body()).contains("\"R8\"");
            }
            // Another port on this machine is not this server: the allow-list decides.
            Http.Response other = Http.postJson(
                    base + "/cds-services/crlm-ablation-patient-view",
                    """
                    {"hook": "patient-view", "hookInstance": "%s", "fhirServer": "http://127.0.0.1:%d/fhir",
                     "context": {"userId": "Practitioner/demo", "patientId": "crlm-demo-01"}}"""
                            .formatted(java.util.UUID.randomUUID(), TestKeys.freePort()),
                    null);
            assertThat(other.status()).as(other.body()).isEqualTo(412);
            assertThat(other.body()).contains("allow-list");
            // A patient this store does not hold is 412, through its own /fhir or with no fhirServer.
            for (String fhirServer : List.of("\"fhirServer\": \"" + base + "/fhir\",", "")) {
                Http.Response unknown = Http.postJson(
                        base + "/cds-services/crlm-ablation-patient-view",
                        """
                        {"hook": "patient-view", "hookInstance": "%s", %s
                         "context": {"userId": "Practitioner/demo", "patientId": "1288992"}}"""
                                .formatted(java.util.UUID.randomUUID(), fhirServer),
                        null);
                assertThat(unknown.status()).as(unknown.body()).isEqualTo(412);
            }

            IGenericClient fhir = FhirClients.client(base + "/fhir", null);
            Patient patient = new Patient();
            patient.addName().setFamily("Restart");
            patientId = fhir.create().resource(patient).execute().getId().getIdPart();
            firstCounts = counts(fhir);
        }
        try (ConfigurableApplicationContext app = start(port)) {
            IGenericClient fhir = FhirClients.client(base + "/fhir", null);
            assertThat(fhir.read()
                            .resource(Patient.class)
                            .withId(patientId)
                            .execute()
                            .getNameFirstRep()
                            .getFamily())
                    .isEqualTo("Restart");
            assertThat(counts(fhir)).isEqualTo(firstCounts);
            Bundle history = fhir.history()
                    .onInstance("Library/CRLMAblationRules")
                    .returnBundle(Bundle.class)
                    .execute();
            assertThat(history.getEntry())
                    .as("an unchanged library is not stored again")
                    .hasSize(1);
            assertThat(output).contains("Loaded " + RepositoryCounts.all() + " knowledge resources");
        }
    }

    private static Map<String, Integer> counts(IGenericClient fhir) {
        return Map.of(
                "Library", total(fhir, Library.class),
                "PlanDefinition", total(fhir, PlanDefinition.class),
                "ValueSet", total(fhir, ValueSet.class),
                "Patient", total(fhir, Patient.class));
    }

    private static int total(IGenericClient fhir, Class<? extends org.hl7.fhir.instance.model.api.IBaseResource> type) {
        return fhir.search()
                .forResource(type)
                .summaryMode(ca.uhn.fhir.rest.api.SummaryEnum.COUNT)
                .returnBundle(Bundle.class)
                .execute()
                .getTotal();
    }
}
