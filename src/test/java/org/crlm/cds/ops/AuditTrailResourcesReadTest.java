package org.crlm.cds.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.crlm.cds.cdshooks.PatientRecord;
import org.junit.jupiter.api.Test;

/** The audit row names every resource a decision read, with its version and where it came from. */
class AuditTrailResourcesReadTest {

    @Test
    void eachResourceReadIsOneObjectInTheOrderRead() {
        String json = AuditTrail.resourcesRead(List.of(
                new PatientRecord.ResourceRead("Observation/o1", "3", PatientRecord.Source.PREFETCH, "geneticResults"),
                new PatientRecord.ResourceRead(
                        "ServiceRequest/draft-order-0", null, PatientRecord.Source.HOOK_CONTEXT, "draftOrders"),
                new PatientRecord.ResourceRead("Patient/p\"1", null, null, null)));
        assertThat(json)
                .isEqualTo("[{\"reference\":\"Observation/o1\",\"version\":\"3\",\"source\":\"PREFETCH\","
                        + "\"prefetchKey\":\"geneticResults\"},"
                        + "{\"reference\":\"ServiceRequest/draft-order-0\",\"version\":null,\"source\":\"HOOK_CONTEXT\","
                        + "\"prefetchKey\":\"draftOrders\"},"
                        + "{\"reference\":\"Patient/p\\\"1\",\"version\":null,\"source\":null,\"prefetchKey\":null}]");
    }

    @Test
    void noResourcesReadIsAnEmptyList() {
        assertThat(AuditTrail.resourcesRead(List.of())).isEqualTo("[]");
    }
}
