package org.crlm.cds.support;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** Calls the CDS Hooks endpoints as an authenticated EHR would (a fresh JWT per call). */
public class CdsClient {

    private final String base;
    private final TestKeys keys;

    public CdsClient(String base, TestKeys keys) {
        this.base = base;
        this.keys = keys;
    }

    public Http.Response discovery() {
        String url = base + "/cds-services";
        return Http.get(url, keys.cdsJwt(url));
    }

    public Http.Response call(String serviceId, String body) {
        String url = base + "/cds-services/" + serviceId;
        return Http.postJson(url, body, keys.cdsJwt(url));
    }

    public Http.Response call(String serviceId, JsonNode body) {
        return call(serviceId, Http.write(body));
    }

    public Http.Response feedback(String serviceId, String body) {
        String url = base + "/cds-services/" + serviceId + "/feedback";
        return Http.postJson(url, body, keys.cdsJwt(url));
    }

    /** A patient-view request for a patient, with a fresh hookInstance and no prefetch. */
    public static String patientViewRequest(String patientId) {
        return """
                {"hook": "patient-view", "hookInstance": "%s",
                 "context": {"userId": "Practitioner/test-surgeon", "patientId": "%s"}}"""
                .formatted(UUID.randomUUID(), patientId);
    }

    /** Calls patient-view for a patient with no prefetch (the service reads its own store). */
    public Http.Response patientView(String patientId) {
        return call("crlm-ablation-patient-view", patientViewRequest(patientId));
    }

    /** Service id → (prefetch key → template), as discovery advertises them. */
    public Map<String, Map<String, String>> prefetchTemplates() {
        Map<String, Map<String, String>> templates = new LinkedHashMap<>();
        for (JsonNode service : discovery().json().path("services")) {
            Map<String, String> t = new LinkedHashMap<>();
            service.path("prefetch")
                    .fields()
                    .forEachRemaining(e -> t.put(e.getKey(), e.getValue().asText()));
            templates.put(service.path("id").asText(), t);
        }
        return templates;
    }
}
