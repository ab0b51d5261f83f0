package org.crlm.cds.rules;

import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The resources one hook call evaluates against: the patient's record (prefetch, fetched
 * or local) joined with the hook's draft orders, held in memory by type. A later resource
 * with the same type and id replaces an earlier one, so a draft order in the hook context
 * wins over its stored copy. The evaluation time is "now" for the rules (CQL {@code Now()});
 * a rule test case sets it so that rules looking back from now stay right on any later day.
 */
public final class PatientData {

    private final String patientId;
    private final Map<String, Map<String, IBaseResource>> byType = new LinkedHashMap<>();
    private final ZonedDateTime evaluationTime;

    public PatientData(String patientId, Collection<? extends IBaseResource> resources) {
        this(patientId, resources, null);
    }

    /** @param evaluationTime the rules' "now"; null for the moment of evaluation */
    public PatientData(String patientId, Collection<? extends IBaseResource> resources, ZonedDateTime evaluationTime) {
        this.patientId = patientId;
        this.evaluationTime = evaluationTime;
        int anonymous = 0;
        for (IBaseResource r : resources) {
            String type = r.fhirType();
            String id = r.getIdElement().getIdPart();
            byType.computeIfAbsent(type, t -> new LinkedHashMap<>()).put(id != null ? id : "#" + anonymous++, r);
        }
    }

    public String patientId() {
        return patientId;
    }

    /** The rules' "now": the time set for this data, else the current time. */
    public ZonedDateTime evaluationTime() {
        return evaluationTime != null ? evaluationTime : ZonedDateTime.now();
    }

    public List<IBaseResource> ofType(String type) {
        Map<String, IBaseResource> resources = byType.get(type);
        return resources == null ? List.of() : new ArrayList<>(resources.values());
    }

    public int size() {
        return byType.values().stream().mapToInt(Map::size).sum();
    }
}
