package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.crlm.cds.authoring.BundlePrefetch;
import org.crlm.cds.authoring.RuleTestCase;
import org.crlm.cds.knowledge.Decision;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.support.RepositoryRules;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Discovery's prefetch templates fetch every shape the rules read: for every case in cql/tests,
 * the rules decide the same (rules fired and the facts on their cards) on what the templates
 * fetch from the case's record as on the whole record. A shape the templates miss shows here
 * as a rule or fact that only the whole record gives.
 */
class ScenarioPrefetchCoverageTest {

    /** The longest URL an EHR must accept for one prefetch template, after the code lists are filled in. */
    static final int MAX_TEMPLATE_URL = 2048;

    private final DecisionEvaluator evaluator = new DecisionEvaluator(new RuleEngine());
    private final ServiceCatalog catalog = new ServiceCatalog();

    @Test
    void everyTemplateStaysUnder2048CharactersWithItsCodeListsFilledIn() {
        RuleSet rules = RepositoryRules.get();
        for (ServiceDefinition service : catalog.services(rules)) {
            for (Map.Entry<String, String> t : service.prefetch().entrySet()) {
                String url = PrefetchTemplates.expandValueSets(t.getValue(), rules)
                        .replace(
                                "{{context.patientId}}",
                                "a-patient-id-of-sixty-four-characters-0000000000000000000000000");
                assertThat(url.length())
                        .as(service.id() + " " + t.getKey() + ": " + url)
                        .isLessThan(MAX_TEMPLATE_URL);
                assertThat(url)
                        .as("only client-resolvable tokens")
                        .doesNotContain("{{")
                        .doesNotContain(":in=");
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> theTemplatesFetchEveryShapeAScenarioUses() {
        RuleSet rules = RepositoryRules.get();
        return RuleTestCase.all().stream()
                .map(s -> DynamicTest.dynamicTest(s.name(), () -> {
                    ServiceDefinition service =
                            catalog.service(rules, s.serviceId()).orElseThrow();
                    Set<IBaseResource> fetched = new LinkedHashSet<>();
                    for (String template : service.prefetch().values()) {
                        String query = PrefetchTemplates.expandValueSets(template, rules)
                                .replace("{{context.patientId}}", s.patientId());
                        fetched.addAll(BundlePrefetch.run(query, s.patientId(), s.recordResources()));
                    }
                    Map<String, String> whole = outcomes(rules, service, s, s.recordResources());
                    Map<String, String> prefetched = outcomes(rules, service, s, new ArrayList<>(fetched));
                    assertThat(prefetched)
                            .as("rules and facts from the prefetched resources of " + s.name())
                            .isEqualTo(whole);
                }));
    }

    private Map<String, String> outcomes(
            RuleSet rules, ServiceDefinition service, RuleTestCase s, List<IBaseResource> record) {
        List<IBaseResource> data = new ArrayList<>(record);
        data.addAll(s.draftOrderResources());
        Decision decision = evaluator.decide(rules, service, new PatientData(s.patientId(), data, s.evaluationDate()));
        Map<String, String> result = new LinkedHashMap<>();
        for (Decision.RuleOutcome rule : decision.rules()) {
            result.put(rule.rule().ruleId(), rule.status() + (rule.fired() ? " " + rule.facts() : ""));
        }
        return result;
    }
}
