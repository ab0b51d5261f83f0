package org.crlm.cds.support;

import com.fasterxml.jackson.databind.JsonNode;

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
}
