package org.crlm.cds.rules;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Reference;
import org.opencds.cqf.cql.engine.model.ModelResolver;
import org.opencds.cqf.cql.engine.retrieve.RetrieveProvider;
import org.opencds.cqf.cql.engine.runtime.Code;
import org.opencds.cqf.cql.engine.runtime.Interval;
import org.opencds.cqf.cql.engine.terminology.TerminologyProvider;
import org.opencds.cqf.cql.engine.terminology.ValueSetInfo;

/**
 * Answers CQL retrieves from one patient's in-memory data: no database, no network.
 * Filters by the patient context and by code or value set (the engine filters nothing itself).
 */
final class PatientDataRetrieveProvider implements RetrieveProvider {

    private final PatientData data;
    private final ModelResolver modelResolver;
    private final TerminologyProvider terminology;
    // Concurrent: an evaluation given up by its time limit may still read on its own thread.
    private final Map<RetrieveKey, List<Object>> answers = new ConcurrentHashMap<>();
    private final Map<List<Object>, List<IBaseResource>> inContext = new ConcurrentHashMap<>();
    private final Map<CodingsKey, List<Coding>> codingsAt = new ConcurrentHashMap<>();

    PatientDataRetrieveProvider(PatientData data, ModelResolver modelResolver, TerminologyProvider terminology) {
        this.data = data;
        this.modelResolver = modelResolver;
        this.terminology = terminology;
    }

    @Override
    public Iterable<Object> retrieve(
            String context,
            String contextPath,
            Object contextValue,
            String dataType,
            String templateId,
            String codePath,
            Iterable<Code> codes,
            String valueSet,
            String datePath,
            String dateLowPath,
            String dateHighPath,
            Interval dateRange) {
        if (dateRange != null) {
            // Only produced with the translator's date-range optimisation, which is off.
            throw new IllegalStateException("Date-filtered retrieves are not supported: " + dataType + "." + datePath);
        }
        // The record does not change during a decision: each retrieve shape is answered once and
        // each resource's context and codes are read once, then reused (same filter, same order).
        RetrieveKey key = new RetrieveKey(dataType, contextPath, contextValue, codePath, codeKeys(codes), valueSet);
        List<Object> answer = answers.computeIfAbsent(
                key, k -> filter(dataType, contextPath, contextValue, codePath, codes, valueSet));
        return new ArrayList<>(answer);
    }

    private List<Object> filter(
            String dataType,
            String contextPath,
            Object contextValue,
            String codePath,
            Iterable<Code> codes,
            String valueSet) {
        List<Object> result = new ArrayList<>();
        for (IBaseResource resource : inContext(dataType, contextPath, contextValue)) {
            if (hasCode(resource, codePath, codes, valueSet)) {
                result.add(resource);
            }
        }
        return List.copyOf(result);
    }

    /** The resources of a type in the patient's context, in the record's order. */
    private List<IBaseResource> inContext(String dataType, String contextPath, Object contextValue) {
        return inContext.computeIfAbsent(Arrays.asList(dataType, contextPath, contextValue), k -> {
            List<IBaseResource> result = new ArrayList<>();
            for (IBaseResource resource : data.ofType(dataType)) {
                if (inContext(resource, dataType, contextPath, contextValue)) {
                    result.add(resource);
                }
            }
            return List.copyOf(result);
        });
    }

    /** The code filter's identity: its codes by system and code, in order (null when none). */
    private static List<String> codeKeys(Iterable<Code> codes) {
        if (codes == null) {
            return null;
        }
        List<String> keys = new ArrayList<>();
        for (Code code : codes) {
            keys.add(code.getSystem() + "|" + code.getCode());
        }
        return keys;
    }

    private record RetrieveKey(
            String dataType,
            String contextPath,
            Object contextValue,
            String codePath,
            List<String> codes,
            String valueSet) {}

    private boolean inContext(IBaseResource resource, String dataType, String contextPath, Object contextValue) {
        if (contextValue == null) {
            return true;
        }
        String patientId = contextValue.toString();
        if ("Patient".equals(dataType)) {
            return patientId.equals(resource.getIdElement().getIdPart());
        }
        if (contextPath == null) {
            return true;
        }
        Object subject = modelResolver.resolvePath(resource, contextPath);
        if (!(subject instanceof Reference ref)) {
            return true;
        }
        if (("Patient/" + patientId).equals(ref.getReference())) {
            return true; // the usual shape, without parsing the reference
        }
        String idPart = ref.getReferenceElement().getIdPart();
        // No subject on the resource (e.g. a contained or partial draft order): it came with this patient's data.
        return idPart == null || patientId.equals(idPart);
    }

    private boolean hasCode(IBaseResource resource, String codePath, Iterable<Code> codes, String valueSet) {
        if (codePath == null || (codes == null && valueSet == null)) {
            return true;
        }
        List<Coding> codings = codingsAt.computeIfAbsent(
                new CodingsKey(resource, codePath), k -> codings(modelResolver.resolvePath(resource, codePath)));
        for (Coding coding : codings) {
            if (codes != null) {
                for (Code code : codes) {
                    if (code.getCode() != null
                            && code.getCode().equals(coding.getCode())
                            && (code.getSystem() == null || code.getSystem().equals(coding.getSystem()))) {
                        return true;
                    }
                }
            }
            if (valueSet != null
                    && coding.getCode() != null
                    && terminology.in(
                            new Code().withSystem(coding.getSystem()).withCode(coding.getCode()),
                            new ValueSetInfo().withId(valueSet))) {
                return true;
            }
        }
        return false;
    }

    /** A resource (by identity) and a code path. */
    private record CodingsKey(IBaseResource resource, String path) {
        @Override
        public boolean equals(Object o) {
            return o instanceof CodingsKey k && k.resource == resource && k.path.equals(path);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(resource) * 31 + path.hashCode();
        }
    }

    private static List<Coding> codings(Object value) {
        List<Coding> result = new ArrayList<>();
        if (value instanceof CodeableConcept cc) {
            result.addAll(cc.getCoding());
        } else if (value instanceof Coding c) {
            result.add(c);
        } else if (value instanceof CodeType code) {
            result.add(new Coding().setCode(code.getValue()));
        } else if (value instanceof Iterable<?> list) {
            for (Object item : list) {
                result.addAll(codings(item));
            }
        }
        return result;
    }
}
