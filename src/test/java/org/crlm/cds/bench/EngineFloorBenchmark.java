package org.crlm.cds.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.crlm.cds.knowledge.RuleDefinition;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.EvaluationSession;
import org.crlm.cds.rules.ExpressionResult;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CarePlan;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The floor and the baseline, in the same JVM setup, on the same data as the HTTP benchmark's
 * order-sign call (demo patient crlm-demo-01 and its two ablation orders as drafts):
 * <ul>
 *   <li>{@code engineFloorPatientView}: the same for the patient-view call on the whole record;</li>
 *   <li>{@code engineFloor}: the rule conditions (and the facts of the rules that fire)
 *       evaluated directly by the CQL engine on in-memory data, as the service does, without
 *       HTTP, JSON, security or cards;</li>
 *   <li>{@code engineFloor1000Observations}: the order-sign rules on the scale patient of the
 *       HTTP benchmark at 1 000 Observations (its microwave ablation order as the draft);</li>
 *   <li>{@code engineFloor10000Observations}: the same at 10 000 Observations;</li>
 *   <li>{@code applyBaseline}: the same PlanDefinition and Library through clinical-reasoning's
 *       PlanDefinition $apply.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class EngineFloorBenchmark {

    private static final String SCALED_PATIENT = "crlm-scale-1000";
    private static final String LARGE_PATIENT = "crlm-scale-10000";

    private RuleEngine engine;
    private RuleSet rules;
    private ServiceDefinition service;
    private ServiceDefinition patientView;
    private List<IBaseResource> data;
    private List<IBaseResource> record;
    private List<IBaseResource> scaled;
    private List<IBaseResource> large;
    private ApplyBaseline apply;

    @Setup(Level.Trial)
    public void setUp() {
        var knowledge = BenchData.knowledge();
        rules = BenchData.rules(knowledge);
        engine = new RuleEngine();
        service = BenchData.service(rules, "crlm-ablation-order-sign");
        patientView = BenchData.service(rules, "crlm-ablation-patient-view");
        record = BenchData.demoRecord();
        List<IBaseResource> withoutOrders = BenchData.withoutOrders(record);
        List<IBaseResource> drafts = BenchData.draftOrders(record);
        data = new ArrayList<>(withoutOrders);
        data.addAll(drafts);
        apply = new ApplyBaseline(knowledge, withoutOrders, drafts);
        scaled = new ArrayList<>(BenchData.scaledRecord(SCALED_PATIENT, 1000));
        scaled.add(BenchData.scaledOrder(SCALED_PATIENT));
        large = new ArrayList<>(BenchData.scaledRecord(LARGE_PATIENT, 10_000));
        large.add(BenchData.scaledOrder(LARGE_PATIENT));
    }

    @Benchmark
    public List<Object> engineFloor() {
        return evaluate(service, BenchData.PATIENT, data);
    }

    /** The order-sign floor on a record of 1 000 Observations (the scale curve's middle point). */
    @Benchmark
    public List<Object> engineFloor1000Observations() {
        return evaluate(service, SCALED_PATIENT, scaled);
    }

    /** The same at 10 000 Observations (the scale curve's last point): how the cost grows. */
    @Benchmark
    public List<Object> engineFloor10000Observations() {
        return evaluate(service, LARGE_PATIENT, large);
    }

    /** The floor of the patient-view call: the whole record, its own orders, no drafts. */
    @Benchmark
    public List<Object> engineFloorPatientView() {
        return evaluate(patientView, BenchData.PATIENT, record);
    }

    private List<Object> evaluate(ServiceDefinition which, String patient, List<IBaseResource> resources) {
        EvaluationSession session = engine.open(rules, new PatientData(patient, resources), Map.of());
        // On one evaluation thread, as the service's decisions run.
        return session.run(() -> {
            List<Object> out = new ArrayList<>();
            for (RuleDefinition rule : which.rules()) {
                ExpressionResult applies = session.evaluate(rule.condition());
                if (applies.isTrue()) {
                    out.add(session.evaluate(rule.facts()).value());
                }
            }
            return out;
        });
    }

    @Benchmark
    public CarePlan applyBaseline() {
        return apply.apply("crlm-ablation-order-sign", BenchData.PATIENT);
    }
}
