package org.crlm.cds.authoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The short scenario form (YAML, in the spirit of the CQL Testing Framework): the patient's
 * resources as a plain list, without Bundle wrappers, ids or patient references, which are
 * filled in. Read into the same tree as a JSON scenario.
 *
 * <pre>
 * title: KRAS mutated, one 32 mm lesion planned for ablation → R1, R3
 * hook: patient-view
 * patient: crlm-yaml-01          # becomes patientId; a Patient resource is added when absent
 * data:                          # the record: FHIR resources in YAML
 *   - resourceType: Observation
 *     status: final
 *     code: {coding: [{system: http://loinc.org, code: 21702-6}]}
 *     valueString: KRAS c.35G>A detected
 * draftOrders: []                # optional, for order-select / order-sign
 * expectedRules: [R1, R3]
 * expectedFacts: {R3: ["32 mm"]} # optional
 * </pre>
 *
 * A resource without an id gets {@code <type>-<n>}; one without {@code subject} (or
 * {@code patient} for types that use it) points at the patient.
 */
final class ShortScenario {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ShortScenario() {}

    static JsonNode read(Path file) throws IOException {
        Object yaml;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            yaml = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
        }
        if (!(JSON.valueToTree(yaml) instanceof ObjectNode scenario)) {
            throw new RuleTestCase.MalformedScenarioException(
                    file, 1, "a scenario is a map (title, hook, patient, data, expectedRules)");
        }
        String patient = scenario.path("patient").asText(null);
        if (patient == null || patient.isBlank()) {
            throw new RuleTestCase.MalformedScenarioException(file, null, "patient (the patient's id) is missing");
        }
        ObjectNode result = JSON.createObjectNode();
        result.put("title", scenario.path("title").asText());
        result.put("hook", scenario.path("hook").asText());
        result.put("patientId", patient);
        ArrayNode data = scenario.path("data").isArray() ? (ArrayNode) scenario.get("data") : JSON.createArrayNode();
        boolean hasPatient = false;
        for (JsonNode r : data) {
            hasPatient |= "Patient".equals(r.path("resourceType").asText())
                    && patient.equals(r.path("id").asText(patient));
        }
        ArrayNode record = JSON.createArrayNode();
        if (!hasPatient) {
            record.addObject().put("resourceType", "Patient").put("id", patient);
        }
        data.forEach(record::add);
        result.set("record", bundle(file, record, patient, "record"));
        if (scenario.path("draftOrders").isArray()) {
            result.set("draftOrders", bundle(file, (ArrayNode) scenario.get("draftOrders"), patient, "draft"));
        }
        for (String copied : new String[] {"selections", "expectedRules", "expectedFacts", "evaluationDate"}) {
            if (scenario.has(copied)) {
                result.set(copied, scenario.get(copied));
            }
        }
        return result;
    }

    private static ObjectNode bundle(Path file, ArrayNode resources, String patient, String idPrefix) {
        ObjectNode bundle = JSON.createObjectNode();
        bundle.put("resourceType", "Bundle");
        bundle.put("type", "collection");
        ArrayNode entries = bundle.putArray("entry");
        int n = 0;
        for (JsonNode r : resources) {
            n++;
            if (!(r instanceof ObjectNode resource) || !resource.hasNonNull("resourceType")) {
                throw new RuleTestCase.MalformedScenarioException(
                        file, null, idPrefix + " item " + n + " has no resourceType");
            }
            String type = resource.get("resourceType").asText();
            if (!resource.hasNonNull("id")) {
                resource.put("id", idPrefix + "-" + type.toLowerCase(Locale.ROOT) + "-" + n);
            }
            if (!"Patient".equals(type)) {
                String field =
                        switch (type) {
                            case "AllergyIntolerance", "Immunization" -> "patient";
                            default -> "subject";
                        };
                if (!resource.has(field) && !resource.has("patient")) {
                    resource.putObject(field).put("reference", "Patient/" + patient);
                }
            }
            entries.addObject().set("resource", resource);
        }
        return bundle;
    }
}
