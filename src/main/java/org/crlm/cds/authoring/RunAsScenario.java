package org.crlm.cds.authoring;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Resource;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * A console run written as a scenario in the short YAML form ({@link ShortScenario}): the
 * record the rules read (without storage metadata and narrative), the draft orders and
 * selections the request sent, the rules whose cards came back as the expectation, and the
 * moment of the run as the evaluation date (the record's dates are read as of then).
 */
final class RunAsScenario {

    private static final ObjectMapper JSON = new ObjectMapper();

    private RunAsScenario() {}

    static String yaml(
            String title,
            String hook,
            String patientId,
            List<IBaseResource> record,
            JsonNode context,
            Set<String> expectedRules,
            ZonedDateTime evaluatedAt) {
        Map<String, Object> scenario = new LinkedHashMap<>();
        scenario.put("title", title);
        scenario.put("hook", hook);
        scenario.put(
                "evaluationDate",
                evaluatedAt
                        .withZoneSameInstant(ZoneOffset.UTC)
                        .truncatedTo(ChronoUnit.SECONDS)
                        .toString());
        scenario.put("patient", patientId);
        Set<String> draftIds = new HashSet<>();
        List<Object> drafts = new ArrayList<>();
        for (JsonNode entry : context.path("draftOrders").path("entry")) {
            JsonNode resource = entry.path("resource");
            draftIds.add(resource.path("resourceType").asText() + "/"
                    + resource.path("id").asText());
            drafts.add(JSON.convertValue(resource, Object.class));
        }
        List<Object> data = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (IBaseResource r : record) {
            String ref = r.fhirType() + "/" + r.getIdElement().getIdPart();
            if (draftIds.contains(ref) || !seen.add(ref)) {
                continue;
            }
            data.add(plain(r));
        }
        scenario.put("data", data);
        if (context.has("draftOrders")) {
            scenario.put("draftOrders", drafts);
        }
        if (context.path("selections").size() > 0) {
            List<String> selections = new ArrayList<>();
            context.path("selections").forEach(s -> selections.add(s.asText()));
            scenario.put("selections", selections);
        }
        scenario.put("expectedRules", new ArrayList<>(new TreeSet<>(expectedRules)));
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        options.setIndicatorIndent(2);
        options.setIndentWithIndicator(true);
        options.setWidth(120);
        return "# Saved from a console run of " + patientId + " (" + hook + ").\n" + new Yaml(options).dump(scenario);
    }

    /** The resource as plain maps and lists, without storage metadata and narrative. */
    private static Object plain(IBaseResource resource) {
        Resource copy = ((Resource) resource).copy();
        copy.setMeta(null);
        copy.setId(resource.getIdElement().getIdPart());
        if (copy instanceof DomainResource domain) {
            domain.setText(null);
        }
        try {
            ObjectNode tree = (ObjectNode)
                    JSON.readTree(FhirContext.forR4Cached().newJsonParser().encodeResourceToString(copy));
            return JSON.convertValue(tree, Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
