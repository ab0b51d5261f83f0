package org.crlm.cds.bench;

import ca.uhn.fhir.repository.IRepository;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.rules.KnowledgeResources;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.RequestGroup;
import org.hl7.fhir.r4.model.Resource;
import org.opencds.cqf.fhir.cql.EvaluationSettings;
import org.opencds.cqf.fhir.cql.LibraryEngine;
import org.opencds.cqf.fhir.cr.CrSettings;
import org.opencds.cqf.fhir.cr.plandefinition.PlanDefinitionProcessor;
import org.opencds.cqf.fhir.utility.monad.Eithers;
import org.opencds.cqf.fhir.utility.repository.InMemoryFhirRepository;

/**
 * The baseline a user would otherwise pick: the same PlanDefinitions and Library applied with
 * clinical-reasoning's PlanDefinition $apply (cqf-fhir-cr 4.4.0) on an in-memory repository
 * holding the same knowledge and the same patient data. One shared EvaluationSettings, so
 * compiled libraries and value-set expansions are cached as a well-configured server would.
 */
public final class ApplyBaseline {

    private final PlanDefinitionProcessor processor;
    private final LibraryEngine libraryEngine;
    private final Bundle draftOrders;

    public ApplyBaseline(KnowledgeResources knowledge, List<IBaseResource> record, List<IBaseResource> drafts) {
        IRepository repository = new InMemoryFhirRepository(BenchData.FHIR);
        for (IBaseResource r : knowledge.all()) {
            repository.update(r instanceof org.hl7.fhir.r4.model.ValueSet vs ? expanded(vs) : r);
        }
        for (IBaseResource r : record) {
            repository.update(r);
        }
        EvaluationSettings settings = EvaluationSettings.getDefault();
        // Translate with the options the service uses, so both run the same ELM.
        settings.getCqlOptions().setCqlCompilerOptions(org.crlm.cds.rules.CqlLibraryCompiler.options());
        processor = new PlanDefinitionProcessor(repository, new CrSettings().withEvaluationSettings(settings));
        libraryEngine = new LibraryEngine(repository, settings);
        draftOrders = new Bundle().setType(Bundle.BundleType.COLLECTION);
        drafts.forEach(d -> draftOrders.addEntry().setResource((Resource) d));
    }

    /** The in-memory repository cannot run $expand, so value sets carry their expansion, as on a terminology server. */
    private static org.hl7.fhir.r4.model.ValueSet expanded(org.hl7.fhir.r4.model.ValueSet valueSet) {
        org.hl7.fhir.r4.model.ValueSet copy = valueSet.copy();
        org.hl7.fhir.r4.model.ValueSet.ValueSetExpansionComponent expansion = copy.getExpansion();
        expansion.setTimestamp(new java.util.Date());
        for (org.hl7.fhir.r4.model.ValueSet.ConceptSetComponent include :
                copy.getCompose().getInclude()) {
            for (org.hl7.fhir.r4.model.ValueSet.ConceptReferenceComponent concept : include.getConcept()) {
                expansion
                        .addContains()
                        .setSystem(include.getSystem())
                        .setCode(concept.getCode())
                        .setDisplay(concept.getDisplay());
            }
        }
        return copy;
    }

    /** $apply of a service PlanDefinition for the patient; the draft orders go in as data. */
    public CarePlan apply(String planDefinitionId, String patientId) {
        return (CarePlan) processor.apply(
                Eithers.forMiddle3(new IdType("PlanDefinition", planDefinitionId)),
                "Patient/" + patientId,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                draftOrders,
                null,
                libraryEngine);
    }

    /** The rule ids whose actions $apply kept: the rule PlanDefinitions' RequestGroups that have an action. */
    public static Set<String> ruleIds(CarePlan carePlan) {
        Set<String> ids = new TreeSet<>();
        for (Resource contained : carePlan.getContained()) {
            if (contained instanceof RequestGroup group
                    && group.getIdElement().getIdPart().matches("R\\d-crlm-rule-r\\d")) {
                for (RequestGroup.RequestGroupActionComponent action : group.getAction()) {
                    if (action == null) {
                        continue; // an action whose condition was false
                    }
                    action.getCode().forEach(c -> c.getCoding().forEach(coding -> {
                        if ("http://crlm-cds.org/fhir/CodeSystem/crlm-rule".equals(coding.getSystem())) {
                            ids.add(coding.getCode());
                        }
                    }));
                    if (action.getCode().isEmpty()) {
                        ids.add(group.getIdElement().getIdPart().substring(0, 2));
                    }
                }
            }
        }
        return ids;
    }

    /** Quick check: mvn -q test-compile exec:java -Dexec.mainClass=org.crlm.cds.bench.ApplyBaseline -Dexec.classpathScope=test */
    public static void main(String[] args) {
        KnowledgeResources knowledge = BenchData.knowledge();
        List<IBaseResource> record = BenchData.demoRecord();
        ApplyBaseline baseline =
                new ApplyBaseline(knowledge, BenchData.withoutOrders(record), BenchData.draftOrders(record));
        for (int i = 0; i < 5; i++) {
            long t = System.nanoTime();
            CarePlan plan = baseline.apply("crlm-ablation-order-sign", BenchData.PATIENT);
            System.out.printf("$apply %.1f ms -> %s%n", (System.nanoTime() - t) / 1e6, ruleIds(plan));
            if (i == 0) {
                String json =
                        BenchData.FHIR.newJsonParser().setPrettyPrint(true).encodeResourceToString(plan);
                System.out.println(json.substring(0, Math.min(4000, json.length())));
            }
        }
    }
}
