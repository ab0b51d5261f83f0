package org.crlm.cds.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Resource;

/**
 * In-process: the order-sign decision at concurrency N on one record whose resource objects
 * are shared by every call (as the local store's cache hands them out) or copied for each call
 * (as a parsed prefetch is). Alternates the two, prints calls/s and process CPU per call.
 * mvn -q test-compile exec:java -Dexec.mainClass=org.crlm.cds.bench.SharedRecordProbe -Dexec.classpathScope=test -Dexec.args="8 10"
 */
public final class SharedRecordProbe {

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        RuleSet rules = BenchData.rules(BenchData.knowledge());
        ServiceDefinition service = BenchData.service(rules, "crlm-ablation-order-sign");
        List<IBaseResource> record = BenchData.demoRecord();
        List<IBaseResource> data = new ArrayList<>(BenchData.withoutOrders(record));
        List<IBaseResource> drafts = BenchData.draftOrders(record);
        data.addAll(drafts);
        List<String> orderIds = drafts.stream()
                .map(d -> d.fhirType() + "/" + d.getIdElement().getIdPart())
                .toList();
        DecisionEvaluator evaluator = new DecisionEvaluator(new RuleEngine());
        for (int round = 0; round < 6; round++) {
            boolean shared = round % 2 == 0;
            run(evaluator, rules, service, data, orderIds, threads, round < 2 ? 5 : seconds, shared);
        }
        System.exit(0);
    }

    private static void run(
            DecisionEvaluator evaluator,
            RuleSet rules,
            ServiceDefinition service,
            List<IBaseResource> data,
            List<String> orderIds,
            int threads,
            int seconds,
            boolean shared)
            throws InterruptedException {
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong calls = new AtomicLong();
        List<Thread> running = new ArrayList<>();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                while (!stop.get()) {
                    List<IBaseResource> resources = shared
                            ? data
                            : data.stream()
                                    .map(r -> (IBaseResource) ((Resource) r).copy())
                                    .toList();
                    evaluator.decide(rules, service, new PatientData(BenchData.PATIENT, resources), orderIds);
                    calls.incrementAndGet();
                }
            });
            t.start();
            running.add(t);
        }
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        for (Thread t : running) {
            t.join();
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6;
        System.out.printf(
                "%-7s c=%d: %6.1f calls/s, %.2f ms CPU per call (%d calls)%n",
                shared ? "shared" : "copied", threads, calls.get() / wall, cpuMs / calls.get(), calls.get());
    }
}
