package org.crlm.cds.authoring;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Plays the EHR: runs a service's prefetch templates (as discovery publishes them, with code
 * lists) over a patient's record held in a Bundle, and builds the prefetch object the way a
 * client that honours every template would. Used by the console (pasted bundles) and the tests.
 */
public final class BundlePrefetch {

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private BundlePrefetch() {}

    /** Every key filled; a key with no match is sent as null ("no data"). */
    public static ObjectNode full(Map<String, String> templates, String patientId, List<IBaseResource> record) {
        return subset(templates, patientId, record, templates.keySet());
    }

    /** Only these keys; the others are left out (the service must fetch them itself). */
    public static ObjectNode subset(
            Map<String, String> templates, String patientId, List<IBaseResource> record, Set<String> keys) {
        ObjectNode prefetch = JSON.createObjectNode();
        FhirContext fhir = FhirContext.forR4Cached();
        for (Map.Entry<String, String> t : templates.entrySet()) {
            if (!keys.contains(t.getKey())) {
                continue;
            }
            String query = t.getValue().replace("{{context.patientId}}", patientId);
            List<IBaseResource> matches = run(query, patientId, record);
            JsonNode value;
            if (!query.contains("?")) {
                value = matches.isEmpty() ? null : parse(fhir.newJsonParser().encodeResourceToString(matches.get(0)));
            } else if (matches.isEmpty()) {
                value = null;
            } else {
                Bundle bundle =
                        new Bundle().setType(Bundle.BundleType.SEARCHSET).setTotal(matches.size());
                matches.forEach(m -> bundle.addEntry().setResource((Resource) m));
                value = parse(fhir.newJsonParser().encodeResourceToString(bundle));
            }
            prefetch.set(t.getKey(), value);
        }
        return prefetch;
    }

    public static List<IBaseResource> run(String query, String patientId, List<IBaseResource> record) {
        int q = query.indexOf('?');
        if (q < 0) {
            String[] parts = query.split("/");
            return record.stream()
                    .filter(r -> r.fhirType().equals(parts[0])
                            && r.getIdElement().getIdPart().equals(parts[1]))
                    .collect(Collectors.toList());
        }
        String type = query.substring(0, q);
        List<IBaseResource> result = new ArrayList<>();
        for (IBaseResource r : record) {
            if (!r.fhirType().equals(type)) {
                continue;
            }
            boolean ok = true;
            for (String param : query.substring(q + 1).split("&")) {
                String name = param.substring(0, param.indexOf('='));
                String value = URLDecoder.decode(param.substring(param.indexOf('=') + 1), StandardCharsets.UTF_8);
                ok &= switch (name) {
                    case "patient" -> patientId.equals(patientOf((Resource) r));
                    case "code" -> hasCode((Resource) r, Arrays.asList(value.split(",")));
                    case "status" -> Arrays.asList(value.split(",")).contains(property((Resource) r, "status"));
                    default -> throw new IllegalArgumentException("Unsupported test prefetch parameter " + name);
                };
            }
            if (ok) {
                result.add(r);
            }
        }
        return result;
    }

    private static String patientOf(Resource r) {
        for (String name : List.of("subject", "patient")) {
            Property p = r.getNamedProperty(name);
            if (p != null && p.hasValues() && p.getValues().get(0) instanceof Reference ref) {
                return ref.getReferenceElement().getIdPart();
            }
        }
        return null;
    }

    private static boolean hasCode(Resource r, List<String> codes) {
        Property p = r.getNamedProperty("code");
        if (p == null || !p.hasValues() || !(p.getValues().get(0) instanceof CodeableConcept cc)) {
            return false;
        }
        for (Coding c : cc.getCoding()) {
            if (codes.contains(c.getSystem() + "|" + c.getCode())) {
                return true;
            }
        }
        return false;
    }

    private static String property(Resource r, String name) {
        Property p = r.getNamedProperty(name);
        if (p == null || !p.hasValues()) {
            return null;
        }
        Base value = p.getValues().get(0);
        return value.primitiveValue();
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
