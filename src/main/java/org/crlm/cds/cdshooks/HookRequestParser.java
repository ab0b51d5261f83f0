package org.crlm.cds.cdshooks;

import ca.uhn.fhir.parser.DataFormatException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.springframework.stereotype.Component;

/**
 * Checks a service request against CDS Hooks 2.0 and the hook's context definition, and
 * names the first field that is wrong.
 */
@Component
public class HookRequestParser {

    public static final Set<String> ORDER_HOOKS = Set.of("order-select", "order-sign");
    private static final Pattern FHIR_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
    private static final Pattern USER_ID =
            Pattern.compile("(Practitioner|PractitionerRole|Patient|RelatedPerson)/[A-Za-z0-9\\-.]{1,64}");

    private final FhirJsonReader fhirJson;

    public HookRequestParser(FhirJsonReader fhirJson) {
        this.fhirJson = fhirJson;
    }

    public HookRequest parse(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new InvalidHookRequestException("$", "The request body must be a JSON object");
        }
        String hook = requiredString(root, "hook", "hook");
        String hookInstance = requiredString(root, "hookInstance", "hookInstance");
        if (hookInstance.isBlank() || hookInstance.length() > 100) {
            throw new InvalidHookRequestException(
                    "hookInstance", "hookInstance must be a non-blank identifier (a UUID) of at most 100 characters");
        }
        String fhirServer = optionalString(root, "fhirServer", "fhirServer");
        if (fhirServer != null) {
            checkAbsoluteUrl(fhirServer);
        }
        FhirAuthorization authorization = parseAuthorization(root.get("fhirAuthorization"));
        if (authorization != null && fhirServer == null) {
            throw new InvalidHookRequestException(
                    "fhirServer", "fhirServer is required when fhirAuthorization is given");
        }
        HookContext context = parseContext(hook, root.get("context"));
        Map<String, JsonNode> prefetch = parsePrefetch(root.get("prefetch"));
        return new HookRequest(hook, hookInstance, fhirServer, authorization, context, prefetch);
    }

    /** Syntax only: whether the server may be called (allow-list, scheme) decides 412 later. */
    private static void checkAbsoluteUrl(String url) {
        try {
            URI uri = new URI(url);
            if (!uri.isAbsolute()) {
                throw new InvalidHookRequestException("fhirServer", "fhirServer must be an absolute URL");
            }
        } catch (URISyntaxException e) {
            throw new InvalidHookRequestException("fhirServer", "fhirServer is not a valid URL");
        }
    }

    private static FhirAuthorization parseAuthorization(JsonNode node) {
        if (node == null) {
            return null;
        }
        if (!node.isObject()) {
            throw new InvalidHookRequestException("fhirAuthorization", "fhirAuthorization must be an object");
        }
        String token = requiredString(node, "access_token", "fhirAuthorization.access_token");
        String type = requiredString(node, "token_type", "fhirAuthorization.token_type");
        if (!"Bearer".equalsIgnoreCase(type)) {
            throw new InvalidHookRequestException(
                    "fhirAuthorization.token_type", "fhirAuthorization.token_type must be Bearer");
        }
        JsonNode expires = node.get("expires_in");
        if (expires == null || !expires.isIntegralNumber()) {
            throw new InvalidHookRequestException(
                    "fhirAuthorization.expires_in",
                    "fhirAuthorization.expires_in must be an integer number of seconds");
        }
        String scope = requiredString(node, "scope", "fhirAuthorization.scope");
        String subject = requiredString(node, "subject", "fhirAuthorization.subject");
        String patient = optionalString(node, "patient", "fhirAuthorization.patient");
        return new FhirAuthorization(token, type, expires.asLong(), scope, subject, patient);
    }

    private HookContext parseContext(String hook, JsonNode node) {
        if (node == null || node.isNull()) {
            throw new InvalidHookRequestException("context", "context is required");
        }
        if (!node.isObject()) {
            throw new InvalidHookRequestException("context", "context must be an object");
        }
        String userId = requiredString(node, "userId", "context.userId");
        if (!USER_ID.matcher(userId).matches()) {
            throw new InvalidHookRequestException(
                    "context.userId",
                    "context.userId must be a reference such as Practitioner/123 (Practitioner, PractitionerRole, Patient or RelatedPerson)");
        }
        String patientId = requiredString(node, "patientId", "context.patientId");
        if (!FHIR_ID.matcher(patientId).matches()) {
            throw new InvalidHookRequestException(
                    "context.patientId",
                    "context.patientId must be a FHIR id (letters, digits, '-' and '.', at most 64)");
        }
        String encounterId = optionalString(node, "encounterId", "context.encounterId");
        if (encounterId != null && !FHIR_ID.matcher(encounterId).matches()) {
            throw new InvalidHookRequestException("context.encounterId", "context.encounterId must be a FHIR id");
        }
        List<String> selections = null;
        Bundle draftOrders = null;
        if (ORDER_HOOKS.contains(hook)) {
            draftOrders = parseDraftOrders(node.get("draftOrders"));
        }
        if ("order-select".equals(hook)) {
            selections = parseSelections(node.get("selections"), draftOrders);
        }
        return new HookContext(userId, patientId, encounterId, selections, draftOrders);
    }

    private Bundle parseDraftOrders(JsonNode node) {
        if (node == null || node.isNull()) {
            throw new InvalidHookRequestException(
                    "context.draftOrders", "context.draftOrders is required for this hook");
        }
        if (!node.isObject() || !"Bundle".equals(node.path("resourceType").asText())) {
            throw new InvalidHookRequestException("context.draftOrders", "context.draftOrders must be a FHIR Bundle");
        }
        Bundle bundle;
        try {
            bundle = fhirJson.read(node, Bundle.class);
        } catch (DataFormatException e) {
            throw new InvalidHookRequestException(
                    "context.draftOrders",
                    "context.draftOrders is not a valid FHIR R4 Bundle: this service reads FHIR R4 (4.0.1) resources only, not DSTU2 or STU3");
        }
        int n = 0;
        for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
            IBaseResource resource = entry.getResource();
            if (resource == null) {
                throw new InvalidHookRequestException(
                        "context.draftOrders.entry[" + n + "]", "Every draftOrders entry needs a resource");
            }
            if (resource.getIdElement().getIdPart() == null) {
                // An unsaved order may have no id yet; give it one so orders stay distinct.
                resource.setId(resource.fhirType() + "/draft-order-" + n);
            }
            n++;
        }
        return bundle;
    }

    private static List<String> parseSelections(JsonNode node, Bundle draftOrders) {
        if (node == null || node.isNull()) {
            throw new InvalidHookRequestException(
                    "context.selections", "context.selections is required for order-select");
        }
        if (!node.isArray()) {
            throw new InvalidHookRequestException(
                    "context.selections", "context.selections must be an array of Type/id strings");
        }
        List<String> selections = new ArrayList<>();
        Set<String> inBundle = new java.util.HashSet<>();
        draftOrders
                .getEntry()
                .forEach(e -> inBundle.add(e.getResource().fhirType() + "/"
                        + e.getResource().getIdElement().getIdPart()));
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            if (!item.isTextual()) {
                throw new InvalidHookRequestException(
                        "context.selections[" + i + "]", "context.selections[" + i + "] must be a string");
            }
            if (!inBundle.contains(item.asText())) {
                throw new InvalidHookRequestException(
                        "context.selections[" + i + "]",
                        "context.selections[" + i + "] does not name an order in context.draftOrders");
            }
            selections.add(item.asText());
        }
        return selections;
    }

    private static Map<String, JsonNode> parsePrefetch(JsonNode node) {
        Map<String, JsonNode> prefetch = new LinkedHashMap<>();
        if (node == null) {
            return prefetch;
        }
        if (!node.isObject()) {
            throw new InvalidHookRequestException("prefetch", "prefetch must be an object");
        }
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode value = field.getValue();
            if (value.isNull()) {
                prefetch.put(field.getKey(), NullNode.getInstance());
            } else if (value.isObject() && value.hasNonNull("resourceType")) {
                prefetch.put(field.getKey(), value);
            } else {
                throw new InvalidHookRequestException(
                        "prefetch." + field.getKey(),
                        "prefetch." + field.getKey() + " must be a FHIR resource, a Bundle or null");
            }
        }
        return prefetch;
    }

    private static String requiredString(JsonNode node, String name, String field) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            throw new InvalidHookRequestException(field, field + " is required");
        }
        if (!value.isTextual()) {
            throw new InvalidHookRequestException(field, field + " must be a string");
        }
        return value.asText();
    }

    private static String optionalString(JsonNode node, String name, String field) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new InvalidHookRequestException(field, field + " must be a string");
        }
        return value.asText();
    }
}
