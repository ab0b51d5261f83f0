package org.crlm.cds.rules;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.ActivityDefinition;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.ConceptMap;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.ValueSet;

/** The knowledge artifacts a rule set is built from: CQL Libraries and the FHIR resources around them. */
public record KnowledgeResources(
        List<Library> libraries,
        List<PlanDefinition> planDefinitions,
        List<ActivityDefinition> activityDefinitions,
        List<ValueSet> valueSets,
        List<ConceptMap> conceptMaps,
        List<CodeSystem> codeSystems) {

    /** Resource types that make up the knowledge (a write to any of them changes the rules). */
    public static final List<String> TYPES =
            List.of("Library", "PlanDefinition", "ActivityDefinition", "ValueSet", "ConceptMap", "CodeSystem");

    public static KnowledgeResources of(Collection<? extends IBaseResource> resources) {
        List<Library> libraries = new ArrayList<>();
        List<PlanDefinition> plans = new ArrayList<>();
        List<ActivityDefinition> activities = new ArrayList<>();
        List<ValueSet> valueSets = new ArrayList<>();
        List<ConceptMap> maps = new ArrayList<>();
        List<CodeSystem> codeSystems = new ArrayList<>();
        for (IBaseResource r : resources) {
            if (r instanceof Library l) {
                libraries.add(l);
            } else if (r instanceof PlanDefinition p) {
                plans.add(p);
            } else if (r instanceof ActivityDefinition a) {
                activities.add(a);
            } else if (r instanceof ValueSet v) {
                valueSets.add(v);
            } else if (r instanceof ConceptMap m) {
                maps.add(m);
            } else if (r instanceof CodeSystem c) {
                codeSystems.add(c);
            }
        }
        return new KnowledgeResources(libraries, plans, activities, valueSets, maps, codeSystems);
    }

    /** These resources with one replaced or added (matched by type and id): a candidate publish. */
    public KnowledgeResources with(IBaseResource changed) {
        List<IBaseResource> all = new ArrayList<>(all());
        all.removeIf(r -> r.fhirType().equals(changed.fhirType())
                && r.getIdElement().getIdPart() != null
                && r.getIdElement().getIdPart().equals(changed.getIdElement().getIdPart()));
        all.add(changed);
        return of(all);
    }

    /** These resources with one removed: a candidate delete. */
    public KnowledgeResources without(String type, String id) {
        List<IBaseResource> all = new ArrayList<>(all());
        all.removeIf(
                r -> r.fhirType().equals(type) && id.equals(r.getIdElement().getIdPart()));
        return of(all);
    }

    public List<IBaseResource> all() {
        List<IBaseResource> all = new ArrayList<>();
        all.addAll(libraries);
        all.addAll(planDefinitions);
        all.addAll(activityDefinitions);
        all.addAll(valueSets);
        all.addAll(conceptMaps);
        all.addAll(codeSystems);
        return all;
    }
}
