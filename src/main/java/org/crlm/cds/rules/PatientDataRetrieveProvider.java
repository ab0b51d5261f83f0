package org.crlm.cds.rules;

import java.util.ArrayList;
import java.util.List;
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
        List<Object> result = new ArrayList<>();
        for (IBaseResource resource : data.ofType(dataType)) {
            if (inContext(resource, dataType, contextPath, contextValue)
                    && hasCode(resource, codePath, codes, valueSet)) {
                result.add(resource);
            }
        }
        return result;
    }

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
        if (!(subject instanceof Reference ref) || ref.getReferenceElement().getIdPart() == null) {
            // No subject on the resource (e.g. a contained or partial draft order): it came with this patient's data.
            return true;
        }
        return patientId.equals(ref.getReferenceElement().getIdPart());
    }

    private boolean hasCode(IBaseResource resource, String codePath, Iterable<Code> codes, String valueSet) {
        if (codePath == null || (codes == null && valueSet == null)) {
            return true;
        }
        List<Coding> codings = codings(modelResolver.resolvePath(resource, codePath));
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
