package org.crlm.cds.bench;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.crlm.cds.authoring.BundlePrefetch;
import org.crlm.cds.cdshooks.PrefetchTemplates;
import org.crlm.cds.knowledge.DateShift;
import org.crlm.cds.knowledge.KnowledgeProperties;
import org.crlm.cds.knowledge.RepositoryFiles;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.CqlLibraryCompiler;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.rules.RuleSetBuilder;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.BodyStructure;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.ServiceRequest;

/**
 * The data every benchmark uses, built the same way for the HTTP load, the engine floor and
 * the $apply baseline: demo patient crlm-demo-01 (21 Observations, 3 Conditions, its 2 liver
 * ablation orders sent as draft orders on order-sign), and synthetic records of 10 to 10 000
 * Observations for the scale curve.
 */
public final class BenchData {

    public static final FhirContext FHIR = FhirContext.forR4Cached();
    public static final ObjectMapper JSON = new ObjectMapper();
    public static final String PATIENT = "crlm-demo-01";

    private BenchData() {}

    public static KnowledgeResources knowledge() {
        RepositoryFiles files = new RepositoryFiles(FHIR);
        List<IBaseResource> all = new ArrayList<>();
        files.readCqlLibraries(Path.of("cql"), "http://crlm-cds.org/fhir").forEach(f -> all.add(f.resource()));
        files.readResources(Path.of("fhir-resources"), false).forEach(f -> all.add(f.resource()));
        return KnowledgeResources.of(all);
    }

    public static RuleSet rules(KnowledgeResources knowledge) {
        return new RuleSetBuilder(new CqlLibraryCompiler())
                .build(knowledge)
                .ruleSet()
                .orElseThrow();
    }

    /**
     * The demo patient's record as the server stores it: its dates moved by the same whole months
     * the server moves them when it loads the demo data ({@link DateShift} from
     * {@link KnowledgeProperties#DEMO_DATA_WRITTEN_AS_OF} to today), so that a prefetch built from
     * it and a read of the server's store give the rules the same record. Unshifted, the dates lie
     * some twenty months back and the GAPS card finds the measurements stale, which the stored
     * record's are not.
     */
    public static List<IBaseResource> demoRecord() {
        int months = DateShift.months(LocalDate.parse(KnowledgeProperties.DEMO_DATA_WRITTEN_AS_OF), LocalDate.now());
        try {
            Bundle bundle = FHIR.newJsonParser()
                    .parseResource(
                            Bundle.class,
                            Files.readString(
                                    Path.of("fhir-resources", "demo", "demo-01-kras-g12d-two-rfa-synchronous.json")));
            List<IBaseResource> record = new ArrayList<>();
            bundle.getEntry().forEach(e -> record.add(DateShift.shift(e.getResource(), months)));
            return record;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<IBaseResource> draftOrders(List<IBaseResource> record) {
        List<IBaseResource> orders = new ArrayList<>();
        for (IBaseResource r : record) {
            if (r instanceof ServiceRequest sr && sr.getStatus() == ServiceRequest.ServiceRequestStatus.ACTIVE) {
                ServiceRequest draft = sr.copy();
                draft.setStatus(ServiceRequest.ServiceRequestStatus.DRAFT);
                orders.add(draft);
            }
        }
        return orders;
    }

    public static List<IBaseResource> withoutOrders(List<IBaseResource> record) {
        return record.stream().filter(r -> !(r instanceof ServiceRequest)).toList();
    }

    /** A CDS Hooks request; prefetch from the templates over the record, or none. */
    public static ObjectNode request(
            ServiceDefinition service,
            RuleSet rules,
            String patientId,
            List<IBaseResource> record,
            List<IBaseResource> draftOrders,
            boolean prefetch) {
        ObjectNode request = JSON.createObjectNode();
        request.put("hook", service.hook());
        request.put("hookInstance", UUID.randomUUID().toString());
        ObjectNode context = request.putObject("context");
        context.put("userId", "Practitioner/bench");
        context.put("patientId", patientId);
        if (!"patient-view".equals(service.hook())) {
            Bundle drafts = new Bundle().setType(Bundle.BundleType.COLLECTION);
            draftOrders.forEach(o -> drafts.addEntry().setResource((org.hl7.fhir.r4.model.Resource) o));
            try {
                context.set("draftOrders", JSON.readTree(FHIR.newJsonParser().encodeResourceToString(drafts)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (prefetch) {
            Map<String, String> templates = new LinkedHashMap<>();
            service.prefetch().forEach((k, v) -> templates.put(k, PrefetchTemplates.expandValueSets(v, rules)));
            request.set("prefetch", BundlePrefetch.full(templates, patientId, record));
        }
        return request;
    }

    public static ServiceDefinition service(RuleSet rules, String id) {
        return new ServiceCatalog().service(rules, id).orElseThrow();
    }

    /**
     * A synthetic CRLM patient whose record grows in what the rules read: repeated tumour-size
     * measurements of 8 liver lesions and repeated KRAS results, {@code observations} in all.
     */
    public static List<IBaseResource> scaledRecord(String patientId, int observations) {
        List<IBaseResource> record = new ArrayList<>();
        Patient patient = new Patient();
        patient.setId(patientId);
        record.add(patient);
        int lesions = 8;
        for (int l = 0; l < lesions; l++) {
            BodyStructure lesion = new BodyStructure();
            lesion.setId(patientId + "-lesion-" + l);
            lesion.setPatient(new Reference("Patient/" + patientId));
            lesion.setLocation(
                    new CodeableConcept(new Coding("http://snomed.info/sct", "10200004", "Liver structure")));
            record.add(lesion);
        }
        for (int i = 0; i < observations; i++) {
            Observation o = new Observation();
            o.setId(patientId + "-obs-" + i);
            o.setStatus(Observation.ObservationStatus.FINAL);
            o.setSubject(new Reference("Patient/" + patientId));
            o.setEffective(new DateTimeType(
                    "20%02d-%02d-%02dT10:00:00Z".formatted(10 + (i / 336) % 15, 1 + (i / 28) % 12, 1 + i % 28)));
            if (i % 10 == 0) {
                o.setCode(new CodeableConcept(new Coding("http://loinc.org", "21702-6", "KRAS gene mutations found")));
                o.setValue(new org.hl7.fhir.r4.model.StringType(i % 20 == 0 ? "p.Gly12Asp" : "not detected"));
            } else {
                o.setCode(new CodeableConcept(new Coding("http://loinc.org", "21889-1", "Size Tumor")));
                o.addFocus(new Reference("BodyStructure/" + patientId + "-lesion-" + (i % lesions)));
                o.addComponent()
                        .setCode(new CodeableConcept(new Coding("http://loinc.org", "33728-7", null)))
                        .setValue(new Quantity()
                                .setValue(10 + i % 25)
                                .setUnit("mm")
                                .setSystem("http://unitsofmeasure.org")
                                .setCode("mm"));
            }
            record.add(o);
        }
        return record;
    }

    /** The draft order signed for a scaled patient: a microwave ablation naming no lesion. */
    public static ServiceRequest scaledOrder(String patientId) {
        ServiceRequest order = new ServiceRequest();
        order.setId(patientId + "-mwa");
        order.setStatus(ServiceRequest.ServiceRequestStatus.DRAFT);
        order.setIntent(ServiceRequest.ServiceRequestIntent.ORDER);
        order.setSubject(new Reference("Patient/" + patientId));
        order.setCode(new CodeableConcept().setText("Microwave ablation of liver lesion"));
        return order;
    }
}
