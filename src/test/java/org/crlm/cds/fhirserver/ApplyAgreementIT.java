package org.crlm.cds.fhirserver;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.crlm.cds.authoring.RuleTestCase;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.ApplyClient;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.ScenarioRecords;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * One knowledge base, two standard doors: every scenario in cql/tests through the CDS Hooks
 * service and through clinical-reasoning's PlanDefinition/$apply of the same service
 * PlanDefinition, for the scenario's patient loaded into the store. Both must fire the same
 * rules (and the expected ones). An order hook's draft orders are not in the store: the hook
 * gets them in its context, $apply as {@code data}, and the orders the hook is about as the CQL
 * parameter "Hook Order Ids". Without these two, $apply answers for the stored record only:
 * the boundary tests below show what it then misses.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApplyAgreementIT extends AppIntegrationTest {

    @Autowired
    DaoRegistry daoRegistry;

    // Both doors evaluate at the current time: each case's dates are moved so that its evaluation date is today.
    private final List<RuleTestCase> scenarios = RuleTestCase.all().stream()
            .map(s -> s.relativeTo(LocalDate.now(ZoneOffset.UTC)))
            .toList();
    private CdsClient cds;
    private ApplyClient apply;

    @BeforeAll
    void loadRecordsIntoTheStore() {
        cds = new CdsClient(base(), keys());
        apply = new ApplyClient(base() + "/fhir", () -> keys().fhirToken("user/*.read"));
        ScenarioRecords.store(daoRegistry, scenarios);
    }

    @TestFactory
    Stream<DynamicTest> everyScenarioFiresTheSameRulesThroughTheHookAndThroughApply() throws Exception {
        // Both doors for every scenario, four scenarios at a time (the answers do not depend on the order).
        Map<String, Future<List<Set<String>>>> pending = new LinkedHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        Map<String, List<Set<String>>> answers = new LinkedHashMap<>();
        try {
            for (RuleTestCase s : scenarios) {
                pending.put(
                        s.id(),
                        pool.submit(() -> List.of(
                                hook(s),
                                applyRules(s.serviceId(), s.patientId(), s.draftOrderResources(), s.hookOrderIds()))));
            }
            for (var e : pending.entrySet()) {
                answers.put(e.getKey(), e.getValue().get(10, TimeUnit.MINUTES));
            }
        } finally {
            pool.shutdownNow();
        }
        return scenarios.stream()
                .map(s -> DynamicTest.dynamicTest(s.name(), () -> {
                    Set<String> viaHook = answers.get(s.id()).get(0);
                    Set<String> viaApply = answers.get(s.id()).get(1);
                    assertThat(viaHook).as("hook: " + s.name()).isEqualTo(new TreeSet<>(s.expectedRules()));
                    assertThat(viaApply)
                            .as("$apply agrees with the hook: " + s.name())
                            .isEqualTo(viaHook);
                }));
    }

    /**
     * Boundary: $apply reads the store, and an order hook's draft orders are not there. Without
     * {@code data} it answers for the stored record as patient-view does, so a scenario whose
     * rules come from the order being signed gets no ablation advice from it.
     */
    @Test
    void withoutTheDraftOrdersApplyAnswersForTheStoredRecordOnly() {
        List<RuleTestCase> signing = scenarios.stream()
                .filter(s -> "crlm-ablation-order-sign".equals(s.serviceId()))
                .filter(s -> !s.draftOrderResources().isEmpty())
                .limit(12) // two $apply calls each: a sample is enough to show the boundary
                .toList();
        int differing = 0;
        for (RuleTestCase s : signing) {
            Set<String> storedOnly = applyRules(s.serviceId(), s.patientId(), List.of(), null);
            Set<String> patientView = applyRules("crlm-ablation-patient-view", s.patientId(), List.of(), null);
            assertThat(storedOnly)
                    .as("$apply without data is the stored record's answer: " + s.name())
                    .isEqualTo(patientView);
            if (!storedOnly.equals(new TreeSet<>(s.expectedRules()))) {
                differing++;
            }
        }
        assertThat(differing)
                .as("order-sign scenarios whose answer needs the draft orders sent as data")
                .isGreaterThan(0);
    }

    /**
     * Boundary: the order hooks answer only when the selected or signed orders include an
     * ablation. $apply knows which orders the hook is about only through the CQL parameter
     * "Hook Order Ids"; without it, an MRI selected next to an ablation draft gets the advice.
     */
    @Test
    void withoutHookOrderIdsApplyCannotTellWhichOrderIsSelected() {
        RuleTestCase mriSelected = scenarios.stream()
                .filter(s -> s.id().startsWith("081-"))
                .findFirst()
                .orElseThrow();
        assertThat(mriSelected.expectedRules())
                .as("the hook gives no ablation advice for an MRI")
                .isEmpty();
        assertThat(applyRules(
                        mriSelected.serviceId(),
                        mriSelected.patientId(),
                        mriSelected.draftOrderResources(),
                        mriSelected.hookOrderIds()))
                .isEmpty();
        assertThat(applyRules(
                        mriSelected.serviceId(), mriSelected.patientId(), mriSelected.draftOrderResources(), null))
                .as("without the parameter every planned ablation counts, as on patient-view")
                .isNotEmpty();
    }

    private Set<String> hook(RuleTestCase s) {
        Http.Response response = cds.call(s.serviceId(), s.request(null));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return CdsHooksShape.ruleIds(response.json());
    }

    private Set<String> applyRules(
            String planDefinitionId, String patientId, List<IBaseResource> data, List<String> hookOrderIds) {
        Http.Response response = apply.apply(planDefinitionId, patientId, data, hookOrderIds);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        assertThat(response.json().path("resourceType").asText()).isEqualTo("CarePlan");
        return ApplyClient.ruleIds(response.json());
    }
}
