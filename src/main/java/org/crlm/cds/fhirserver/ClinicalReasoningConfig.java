package org.crlm.cds.fhirserver;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.crlm.cds.rules.CqlLibraryCompiler;
import org.crlm.cds.rules.RuleLibraryCache;
import org.opencds.cqf.fhir.cql.EvaluationSettings;
import org.opencds.cqf.fhir.cql.engine.retrieve.RetrieveSettings;
import org.opencds.cqf.fhir.cql.engine.terminology.TerminologySettings;
import org.opencds.cqf.fhir.cr.CrSettings;
import org.opencds.cqf.fhir.cr.hapi.common.IRepositoryFactory;
import org.opencds.cqf.fhir.cr.hapi.r4.library.LibraryEvaluateProvider;
import org.opencds.cqf.fhir.cr.hapi.r4.plandefinition.PlanDefinitionApplyProvider;
import org.opencds.cqf.fhir.cr.library.LibraryProcessor;
import org.opencds.cqf.fhir.cr.plandefinition.PlanDefinitionProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * clinical-reasoning's {@code PlanDefinition/$apply} and {@code Library/$evaluate} on our
 * {@code /fhir}, over the same stored Libraries, PlanDefinitions and ValueSets the hooks use.
 * Only these two providers, wired as HAPI's JPA starter does (a processor per request over a
 * {@code HapiFhirRepository} of the request), without the rest of clinical-reasoning's
 * operations (measures, packaging, CRMI) that nobody here serves. They pass through the same
 * interceptors as every other /fhir request, so the SMART authorisation applies to them and to
 * every resource they read.
 */
@Configuration
public class ClinicalReasoningConfig {

    /**
     * One settings object for every call: it holds the compiled-library and value-set caches, so
     * CQL is translated once per library version, not per call. Compiled with our own options,
     * so $apply runs the same ELM as the hooks.
     */
    @Bean
    public ClinicalReasoningCaches clinicalReasoningCaches(MeterRegistry meters, RuleLibraryCache rules) {
        // A value set with compose filters (an ICD-10 is-a, a regular expression) cannot be
        // listed: it is expanded per call over the record's own codes (KnowledgeTerminologyRepository).
        ClinicalReasoningCaches caches = new ClinicalReasoningCaches(url -> rules.current()
                .map(r -> r.hasValueSet(url) && r.valueSetHasFilters(url))
                .orElse(false));
        FunctionCounter.builder("cql.translations.clinical.reasoning", caches, ClinicalReasoningCaches::translations)
                .description("CQL libraries translated to ELM by clinical-reasoning ($apply, $evaluate) since start")
                .register(meters);
        // A publish may keep a library's version: a new rule generation empties the caches.
        rules.onSwap(ruleSet -> caches.clear());
        return caches;
    }

    @Bean
    public ClinicalReasoningOperations clinicalReasoningOperations(
            RestfulServer server,
            DaoRegistry daoRegistry,
            ClinicalReasoningCaches caches,
            RuleLibraryCache rules,
            MeterRegistry meters) {
        EvaluationSettings evaluation = EvaluationSettings.getDefault()
                .withLibraryCache(caches.libraries())
                .withValueSetCache(caches.valueSets());
        evaluation.getCqlOptions().setCqlCompilerOptions(CqlLibraryCompiler.options());
        // Search the patient's resources of a type, and filter their codes in memory by the value
        // sets expanded below, as the hooks do: never a code:in search that HAPI expands itself.
        evaluation
                .getRetrieveSettings()
                .setSearchParameterMode(RetrieveSettings.SEARCH_FILTER_MODE.USE_SEARCH_PARAMETERS)
                .setTerminologyParameterMode(RetrieveSettings.TERMINOLOGY_FILTER_MODE.FILTER_IN_MEMORY);
        evaluation
                .getTerminologySettings()
                .setValuesetPreExpansionMode(TerminologySettings.VALUESET_PRE_EXPANSION_MODE.IGNORE)
                .setValuesetExpansionMode(TerminologySettings.VALUESET_EXPANSION_MODE.USE_EXPAND_OPERATION)
                .setValuesetMembershipMode(TerminologySettings.VALUESET_MEMBERSHIP_MODE.USE_EXPANSION);
        CrSettings settings = new CrSettings().withEvaluationSettings(evaluation);
        KnowledgeTerminologyRepository.SearchCounts searchCounts =
                KnowledgeTerminologyRepository.SearchCounts.register(meters);
        IRepositoryFactory repositories = request -> new KnowledgeTerminologyRepository(
                daoRegistry,
                request,
                server,
                () -> rules.current().orElseThrow(() -> new PreconditionFailedException("No rules in service yet")),
                searchCounts);
        List<Object> providers = List.of(
                new PlanDefinitionApplyProvider(
                        request -> new PlanDefinitionProcessor(repositories.create(request), settings)),
                new LibraryEvaluateProvider(request -> new LibraryProcessor(repositories.create(request), settings)));
        server.registerProviders(providers);
        return new ClinicalReasoningOperations(providers);
    }
}
