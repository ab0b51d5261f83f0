package org.crlm.cds.fhirserver;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.repository.searchparam.SearchParameterMapRepositoryRestQueryBuilder;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.repository.IRepository;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.instance.model.api.IBaseBundle;
import org.hl7.fhir.instance.model.api.IBaseParameters;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.ValueSet;
import org.opencds.cqf.fhir.cr.hapi.repository.ClinicalIntelligenceHapiFhirRepository;

/**
 * The repository clinical-reasoning reads for one request: the JPA store, except that
 * {@code ValueSet/$expand} is answered from the rules in service (the same stored ValueSets and
 * ConceptMaps the hooks use, so a site's local codes count for both doors); HAPI's own $expand
 * would need every code system loaded into its terminology service. A value set defined by
 * compose filters (an ICD-10 is-a, a regular expression) cannot be listed: its expansion for
 * this call is its listed codes plus the codes of this patient's record (and of the request's
 * {@code data}) that the filters match, decided exactly as the hooks decide membership.
 *
 * <p>Searches of the record are answered once per request: clinical-reasoning evaluates each
 * action's condition in a CQL engine of its own, and each engine retrieves the patient's
 * resources again (the same few searches hundreds of times per {@code $apply}). The second and
 * later identical searches of one request get the first one's Bundle, as a request reading one
 * moment of the store would. So are searches of terminology: the engine looks a filter-defined
 * value set up again for every code it checks (its expansion depends on the record, so it is not
 * kept between calls). PlanDefinitions, ActivityDefinitions and Libraries, which the processors
 * may adapt, are searched every time.
 */
class KnowledgeTerminologyRepository extends ClinicalIntelligenceHapiFhirRepository {

    /** The patient's resource types the rules read codes from. */
    static final List<String> RECORD_TYPES =
            List.of("Condition", "Observation", "Procedure", "ServiceRequest", "DiagnosticReport", "BodyStructure");

    /** Knowledge the clinical-reasoning processors may change in memory: never shared between searches. */
    private static final Set<String> ADAPTED_BY_PROCESSORS = Set.of("PlanDefinition", "ActivityDefinition", "Library");

    private final DaoRegistry daoRegistry;
    private final RequestDetails request;
    private final Supplier<RuleSet> rules;
    private final Map<String, ValueSet> expansions = new HashMap<>();
    private final Map<String, IBaseBundle> searches = new HashMap<>();
    private final SearchCounts counts;
    private List<Coding> recordCodings;

    /** Searches (record and terminology) run on the store, and those answered again from the request's first answer. */
    record SearchCounts(Counter store, Counter repeated) {

        static SearchCounts register(MeterRegistry meters) {
            String name = "cds.clinical.reasoning.searches";
            String description =
                    "Searches of the record and terminology by clinical-reasoning ($apply, $evaluate): run on the store, or answered again within the request";
            return new SearchCounts(
                    Counter.builder(name)
                            .description(description)
                            .tag("result", "store")
                            .register(meters),
                    Counter.builder(name)
                            .description(description)
                            .tag("result", "repeated")
                            .register(meters));
        }
    }

    KnowledgeTerminologyRepository(
            DaoRegistry daoRegistry,
            RequestDetails request,
            RestfulServer server,
            Supplier<RuleSet> rules,
            SearchCounts counts) {
        super(daoRegistry, request, server);
        this.counts = counts;
        this.daoRegistry = daoRegistry;
        this.request = request;
        this.rules = rules;
    }

    @Override
    public <B extends IBaseBundle, T extends IBaseResource> B search(
            Class<B> bundleType,
            Class<T> resourceType,
            IRepository.IRepositoryRestQueryContributor query,
            Map<String, String> headers) {
        String type = fhirContext().getResourceType(resourceType);
        if (ADAPTED_BY_PROCESSORS.contains(type)) {
            return super.search(bundleType, resourceType, query, headers);
        }
        String key = bundleType.getName() + " " + type + "?"
                + SearchParameterMapRepositoryRestQueryBuilder.buildFromQueryContributor(query)
                        .toNormalizedQueryString(fhirContext())
                + " " + (headers == null ? "" : new TreeMap<>(headers));
        return remembered(bundleType, key, () -> super.search(bundleType, resourceType, query, headers));
    }

    /** The next pages of a remembered search (HAPI pages a record of more than 20) are remembered with it. */
    @Override
    public <B extends IBaseBundle> B link(Class<B> bundleType, String url, Map<String, String> headers) {
        String key = bundleType.getName() + " " + url + " " + (headers == null ? "" : new TreeMap<>(headers));
        return remembered(bundleType, key, () -> super.link(bundleType, url, headers));
    }

    /** The bundle this request already got for the key, or the store's answer, remembered. */
    private <B extends IBaseBundle> B remembered(Class<B> bundleType, String key, Supplier<B> fromStore) {
        synchronized (searches) {
            IBaseBundle found = searches.get(key);
            if (found != null) {
                counts.repeated().increment();
                return bundleType.cast(found);
            }
        }
        counts.store().increment();
        B found = fromStore.get();
        synchronized (searches) {
            searches.putIfAbsent(key, found);
        }
        return found;
    }

    @Override
    public <P extends IBaseParameters, I extends IIdType> MethodOutcome invoke(
            I id, String name, P parameters, Map<String, String> headers) {
        if (!"$expand".equals(name) || !"ValueSet".equals(id.getResourceType())) {
            return super.invoke(id, name, parameters, headers);
        }
        ValueSet expanded = expansions.computeIfAbsent(
                id.toUnqualifiedVersionless().getValue(),
                key -> expand(read(ValueSet.class, id.toUnqualifiedVersionless(), headers)));
        return new MethodOutcome().setResource(expanded);
    }

    private synchronized ValueSet expand(ValueSet stored) {
        RuleSet ruleSet = rules.get();
        String url = stored.getUrl();
        if (!ruleSet.hasValueSet(url)) {
            throw new PreconditionFailedException("ValueSet " + url + " is not part of the rules in service");
        }
        Set<String> codes = new LinkedHashSet<>(ruleSet.listedValueSetCodes(url));
        if (ruleSet.valueSetHasFilters(url)) {
            for (Coding c : recordCodings()) {
                if (c.hasSystem() && c.hasCode() && ruleSet.valueSetContains(url, c.getSystem(), c.getCode())) {
                    codes.add(c.getSystem() + "|" + c.getCode());
                }
            }
        }
        ValueSet expanded = stored.copy();
        ValueSet.ValueSetExpansionComponent expansion = expanded.getExpansion();
        expansion.setTimestamp(new java.util.Date());
        for (String code : codes) {
            int bar = code.lastIndexOf('|');
            expansion.addContains().setSystem(code.substring(0, bar)).setCode(code.substring(bar + 1));
        }
        return expanded;
    }

    /** Every Coding of the subject's record and of the request's data (draft orders). */
    private List<Coding> recordCodings() {
        if (recordCodings != null) {
            return recordCodings;
        }
        List<IBaseResource> resources = new ArrayList<>();
        Parameters operation = request.getResource() instanceof Parameters p ? p : null;
        String subject = subject(operation);
        if (subject != null) {
            for (String type : RECORD_TYPES) {
                SearchParameterMap byPatient =
                        SearchParameterMap.newSynchronous().add("patient", new ReferenceParam(subject));
                resources.addAll(daoRegistry
                        .getResourceDao(type)
                        .search(byPatient, request)
                        .getAllResources());
            }
        }
        if (operation != null
                && operation.getParameter("data") != null
                && operation.getParameter("data").getResource() instanceof Bundle data) {
            data.getEntry().forEach(e -> resources.add(e.getResource()));
        }
        var terser = fhirContext().newTerser();
        List<Coding> codings = new ArrayList<>();
        for (IBaseResource r : resources) {
            codings.addAll(terser.getAllPopulatedChildElementsOfType(r, Coding.class));
        }
        recordCodings = codings;
        return codings;
    }

    private String subject(Parameters operation) {
        if (operation != null && operation.getParameter("subject") != null) {
            var value = operation.getParameter("subject").getValue();
            if (value instanceof Reference reference) {
                return reference.getReference();
            }
            return value == null ? null : value.primitiveValue();
        }
        String[] values = request.getParameters().get("subject");
        return values == null || values.length == 0 ? null : values[0];
    }
}
