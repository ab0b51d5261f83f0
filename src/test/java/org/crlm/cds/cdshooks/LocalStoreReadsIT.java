package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.crlm.cds.fhirserver.RecordStamps;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.FhirClients;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.StoredRecordCopy;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A surgeon opens the same chart again and again, and the EHR sends no prefetch: the record is
 * read from this server's store once, then served from memory while nothing in it changes. The
 * regression guard counts the JPA searches of each call (no timing), and the CQL is never
 * translated on the request path. Any write to the patient's record makes the next call read
 * the store again and answer from the new record.
 */
class LocalStoreReadsIT extends AppIntegrationTest {

    private static final String SERVICE = "crlm-ablation-patient-view";

    @Autowired
    MeterRegistry meters;

    @Autowired
    HookService hooks;

    @Test
    void theSameChartOpenedAgainRunsNoSearchAndATranslationNeverHappens() {
        String patient = "cache-" + UUID.randomUUID().toString().substring(0, 8);
        IGenericClient fhir = FhirClients.clinician(base());
        StoredRecordCopy.copy(fhir, "crlm-demo-10", patient);
        CdsClient cds = new CdsClient(base(), keys());
        int templates = hooks.service(SERVICE).prefetch().size();
        // Each distinct query once; the check that the store knows the patient reads Patient/{id}.
        java.util.Set<String> queries =
                new java.util.HashSet<>(hooks.service(SERVICE).prefetch().values());
        queries.add("Patient/{{context.patientId}}");
        int distinct = queries.size();
        double translations = translations();

        // First call after the record was written: every prefetch query runs on the JPA store.
        double before = queries("miss");
        List<String> first = rules(cds.patientView(patient));
        assertThat(queries("miss") - before).as("JPA queries, first call").isEqualTo(distinct);
        assertThat(first).contains("R1", "R2");

        // The same chart opened again: no JPA query, the same answer.
        for (int i = 0; i < 5; i++) {
            before = queries("miss");
            double hits = queries("hit");
            assertThat(rules(cds.patientView(patient))).isEqualTo(first);
            assertThat(queries("miss") - before)
                    .as("JPA queries, repeated call")
                    .isZero();
            assertThat(queries("hit") - hits)
                    .as("reads from memory, repeated call: every prefetch key and the patient check")
                    .isEqualTo(templates + 1);
        }
        assertThat(translations())
                .as("cql_translations_total over repeated calls")
                .isEqualTo(translations);

        // A write to another patient's record costs this patient nothing.
        String other = "cache-other-" + UUID.randomUUID().toString().substring(0, 8);
        StoredRecordCopy.copy(fhir, "crlm-demo-02", other);
        before = queries("miss");
        assertThat(rules(cds.patientView(patient))).isEqualTo(first);
        assertThat(queries("miss") - before)
                .as("JPA queries after a write to another patient's record (a different stamp row)")
                .isEqualTo(RecordStamps.bucket(patient) == RecordStamps.bucket(other) ? distinct : 0);

        // The KRAS result is withdrawn from the record: the next call reads the store and sees it.
        fhir.delete().resourceById("Observation", patient + "-kras").execute();
        before = queries("miss");
        List<String> after = rules(cds.patientView(patient));
        assertThat(queries("miss") - before).as("JPA queries after a write").isEqualTo(distinct);
        assertThat(after).doesNotContain("R1", "R2");
    }

    private double queries(String result) {
        var counter = meters.find("cds.local.store.reads").tag("result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    private double translations() {
        return meters.find("cql.translations").functionCounter().count();
    }

    private static List<String> rules(Http.Response response) {
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        List<String> rules = new ArrayList<>();
        for (JsonNode card : response.json().path("cards")) {
            rules.add(card.path("source").path("topic").path("code").asText());
        }
        return rules;
    }
}
