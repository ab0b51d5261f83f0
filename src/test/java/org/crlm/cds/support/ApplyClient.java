package org.crlm.cds.support;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;

/** A client of clinical-reasoning's PlanDefinition/$apply and Library/$evaluate on our /fhir. */
public final class ApplyClient {

    private static final FhirContext FHIR = FhirContext.forR4Cached();

    private final String fhirBase;
    private final java.util.function.Supplier<String> token;

    public ApplyClient(String fhirBase, String token) {
        this(fhirBase, () -> token);
    }

    /** A client that asks for a token per call (a long run outlives one token). */
    public ApplyClient(String fhirBase, java.util.function.Supplier<String> token) {
        this.fhirBase = fhirBase;
        this.token = token;
    }

    /**
     * $apply of a PlanDefinition for a patient of the store.
     *
     * @param data resources the caller adds to the store's record (an order hook's draft orders), or empty
     * @param hookOrderIds the CQL parameter "Hook Order Ids" (the orders the hook is about), or null for none
     */
    public Http.Response apply(
            String planDefinitionId, String patientId, List<IBaseResource> data, List<String> hookOrderIds) {
        Parameters parameters = new Parameters();
        parameters.addParameter("subject", new StringType("Patient/" + patientId));
        if (!data.isEmpty()) {
            Bundle bundle = new Bundle().setType(Bundle.BundleType.COLLECTION);
            data.forEach(r -> bundle.addEntry().setResource((Resource) r));
            parameters.addParameter().setName("data").setResource(bundle);
        }
        if (hookOrderIds != null) {
            Parameters cql = new Parameters();
            for (String id : hookOrderIds) {
                listParameter(cql.addParameter().setName("Hook Order Ids").setValue(new StringType(id)));
            }
            parameters.addParameter().setName("parameters").setResource(cql);
        }
        return post("PlanDefinition/" + planDefinitionId + "/$apply", parameters);
    }

    /** A CQL List parameter: without this CPG extension a single value would reach CQL as a String. */
    public static Parameters.ParametersParameterComponent listParameter(Parameters.ParametersParameterComponent p) {
        p.addExtension()
                .setUrl("http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-parameterDefinition")
                .setValue(new org.hl7.fhir.r4.model.ParameterDefinition()
                        .setName(p.getName())
                        .setUse(org.hl7.fhir.r4.model.ParameterDefinition.ParameterUse.IN)
                        .setMin(0)
                        .setMax("*")
                        .setType("string"));
        return p;
    }

    /** $evaluate of a Library for a patient: the named expressions' results. */
    public Http.Response evaluate(String libraryId, String patientId, List<String> expressions) {
        Parameters parameters = new Parameters();
        parameters.addParameter("subject", new StringType("Patient/" + patientId));
        expressions.forEach(e -> parameters.addParameter("expression", new StringType(e)));
        return post("Library/" + libraryId + "/$evaluate", parameters);
    }

    private Http.Response post(String path, Parameters parameters) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/fhir+json");
        headers.put("Accept", "application/fhir+json");
        String bearer = token.get();
        if (bearer != null) {
            headers.put("Authorization", "Bearer " + bearer);
        }
        return Http.send(
                "POST", fhirBase + "/" + path, FHIR.newJsonParser().encodeResourceToString(parameters), headers);
    }

    /**
     * The rules $apply kept in its CarePlan: walking from the service's RequestGroup, every
     * action whose referenced (contained) RequestGroup of a rule PlanDefinition still holds an
     * action, named by the service action's id (R1 ... R8, GAPS); the suggestions inside a rule
     * are not rules.
     */
    public static Set<String> ruleIds(JsonNode carePlan) {
        Map<String, JsonNode> contained = new LinkedHashMap<>();
        carePlan.path("contained").forEach(r -> contained.put(r.path("id").asText(), r));
        Set<String> ids = new TreeSet<>();
        for (JsonNode activity : carePlan.path("activity")) {
            JsonNode group = contained.get(
                    local(activity.path("reference").path("reference").asText()));
            if (group != null) {
                collect(group, contained, ids);
            }
        }
        return ids;
    }

    private static void collect(JsonNode group, Map<String, JsonNode> contained, Set<String> ids) {
        for (JsonNode action : group.path("action")) {
            String reference = action.path("resource").path("reference").asText();
            JsonNode target = contained.get(local(reference));
            if (target != null
                    && "RequestGroup".equals(target.path("resourceType").asText())) {
                boolean kept = false;
                for (JsonNode kept0 : target.path("action")) {
                    kept |= kept0.size() > 0; // an action whose condition was false is left out (or empty)
                }
                if (kept) {
                    ids.add(action.path("id").asText());
                }
                // A rule's own group holds its suggestions (order sets applied as RequestGroups
                // too): those are not rules, so the walk stops at the rule.
                continue;
            }
            collect(action, contained, ids);
        }
    }

    private static String local(String reference) {
        return reference.startsWith("#") ? reference.substring(1) : reference;
    }
}
