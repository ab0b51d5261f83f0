package org.crlm.cds.cdshooks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.crlm.cds.knowledge.ServiceDefinition;

/**
 * A hook request for a synthetic patient (src/main/resources/warm-up), shaped for any service:
 * the warm-up before readiness and the readiness check of every new rule generation use it.
 * Every prefetch key the service declares is sent (an empty Bundle where the synthetic record
 * has nothing for it), so the call never reaches for data outside the request.
 */
public final class SyntheticHookRequest {

    private static final JsonNode TEMPLATE = read();

    private SyntheticHookRequest() {}

    private static JsonNode read() {
        try (InputStream in = SyntheticHookRequest.class.getResourceAsStream("/warm-up/order-sign-request.json")) {
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static ObjectNode forService(ServiceDefinition service) {
        ObjectNode request = TEMPLATE.deepCopy();
        request.put("hook", service.hook());
        ObjectNode context = (ObjectNode) request.get("context");
        if (!HookRequestParser.ORDER_HOOKS.contains(service.hook())) {
            context.remove("draftOrders");
        }
        if ("order-select".equals(service.hook())) {
            context.putArray("selections").add("ServiceRequest/warm-up-order");
        }
        ObjectNode prefetch = (ObjectNode) request.get("prefetch");
        for (String key : service.prefetch().keySet()) {
            if (!prefetch.has(key)) {
                prefetch.putObject(key)
                        .put("resourceType", "Bundle")
                        .put("type", "searchset")
                        .put("total", 0);
            }
        }
        return request;
    }
}
