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
import org.crlm.cds.support.RepositoryCounts;
import org.crlm.cds.support.Http;
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
 * are loaded and warm; it listens on 127.0.0.1 only and says it runs unauthenticated; data
 * survives a restart; loading the repository a second time creates nothing new.
 */
@ExtendWith(OutputCaptureExtension.class)
class RestartAndDemoProfileIT {

    @TempDir
    Path dataDir;

    private ConfigurableApplicationContext start(int port) {
        return new SpringApplicationBuilder(CrlmCdsApplication.class).profiles("demo")
                .run("--server.port=" + port, "--crlm.data-dir=" + dataDir.toAbsolutePath());
    }

    @Test
    void theDemoRestartsWithItsDataAndLoadsTheRepositoryOnlyOnce(CapturedOutput output) throws Exception {
        int port = TestKeys.freePort();
        String base = "http://127.0.0.1:" + port;
        List<Integer> readiness = Collections.synchronizedList(new ArrayList<>());
        // Polls readiness while the application starts in this thread.
        Thread probe = new Thread(() -> await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
                .ignoreExceptions().until(() -> {
                    int status = Http.get(base + "/actuator/health/readiness", null).status();
                    readiness.add(status);
                    return status == 200;
                }));
        probe.start();
        String patientId;
        Map<String, Integer> firstCounts;
        try (ConfigurableApplicationContext app = start(port)) {
            probe.join(30_000);
            assertThat(readiness).as("readiness while loading, then up").contains(503).endsWith(200);
            assertThat(readiness.indexOf(503)).isLessThan(readiness.indexOf(200));
            assertThat(output).contains("DEMO MODE");
            TomcatWebServer web = (TomcatWebServer) ((ServletWebServerApplicationContext) app).getWebServer();
            assertThat((InetAddress) web.getTomcat().getConnector().getProperty("address"))
                    .isEqualTo(InetAddress.getByName("127.0.0.1"));

            Http.Response hook = Http.postJson(base + "/cds-services/crlm-ablation-patient-view", """
                    {"hook": "patient-view", "hookInstance": "0c2c5a6e-1111-4222-8333-444444444444",
                     "context": {"userId": "Practitioner/demo", "patientId": "crlm-demo-01"}}""", null);
            assertThat(hook.status()).isEqualTo(200);
            assertThat(hook.body()).contains("\"R8\"");

            IGenericClient fhir = FhirClients.client(base + "/fhir", null);
            Patient patient = new Patient();
            patient.addName().setFamily("Restart");
            patientId = fhir.create().resource(patient).execute().getId().getIdPart();
            firstCounts = counts(fhir);
        }
        try (ConfigurableApplicationContext app = start(port)) {
            IGenericClient fhir = FhirClients.client(base + "/fhir", null);
            assertThat(fhir.read().resource(Patient.class).withId(patientId).execute().getNameFirstRep().getFamily())
                    .isEqualTo("Restart");
            assertThat(counts(fhir)).isEqualTo(firstCounts);
            Bundle history = fhir.history().onInstance("Library/CRLMAblationRules").returnBundle(Bundle.class).execute();
            assertThat(history.getEntry()).as("an unchanged library is not stored again").hasSize(1);
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
        return fhir.search().forResource(type).summaryMode(ca.uhn.fhir.rest.api.SummaryEnum.COUNT)
                .returnBundle(Bundle.class).execute().getTotal();
    }
}
