package org.crlm.cds.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.crlm.cds.knowledge.RuleDefinition;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.EvaluationSession;
import org.crlm.cds.rules.ExpressionRef;
import org.crlm.cds.rules.ExpressionResult;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleLibrary;
import org.crlm.cds.rules.RuleSet;
import org.hl7.elm.r1.ExpressionDef;
import org.hl7.elm.r1.FunctionDef;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Which CQL definitions the scale curve pays for: each definition of every rule library evaluated
 * alone, in a fresh session (so with everything it depends on), on the benchmark's scaled patient
 * (argument: the number of Observations, default 1000). Cost as processor time and bytes allocated
 * by all threads, so it stays comparable on a loaded machine; the most expensive first. Then the
 * order-sign call itself, measured the same way.
 *
 * <p>{@code java -cp target/test-classes:target/classes:$(cat cp.txt) org.crlm.cds.bench.ProfileExpressions 1000 [repeats]
 * [call | <library url>#<definition>]}: {@code call} measures only the order-sign call; a definition is
 * profiled with JFR (CPU, and allocation by engine operator) into target/benchmark/expression-profile.md.
 */
public final class ProfileExpressions {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    record Cost(String name, double cpuMs, double allocatedMb, String failure) {}

    public static void main(String[] args) {
        int size = args.length > 0 && !args[0].isBlank() ? Integer.parseInt(args[0].trim()) : 1000;
        int repeats = args.length > 1 ? Integer.parseInt(args[1].trim()) : 5;
        var knowledge = BenchData.knowledge();
        RuleSet rules = BenchData.rules(knowledge);
        RuleEngine engine = new RuleEngine();
        ServiceDefinition service = BenchData.service(rules, "crlm-ablation-order-sign");
        List<IBaseResource> data = new ArrayList<>(BenchData.scaledRecord("scale", size));
        data.add(BenchData.scaledOrder("scale"));

        Runnable call = () -> {
            EvaluationSession session = engine.open(rules, new PatientData("scale", data), Map.of());
            for (RuleDefinition rule : service.rules()) {
                if (session.evaluate(rule.condition()).isTrue()) {
                    session.evaluate(rule.facts());
                }
            }
        };
        for (int i = 0; i < 3; i++) {
            call.run();
        }
        if (args.length > 2 && args[2].equals("call")) {
            // Only the order-sign call: cost per call, median of the repeats.
            double[] whole = measure(call, repeats);
            System.out.printf(
                    "%d Observations, order-sign call: %.2f ms cpu, %.2f MB allocated (median of %d)%n",
                    size, whole[0], whole[1], repeats);
            System.exit(0);
        }
        if (args.length > 2) {
            profile(args[2], () -> {
                ExpressionRef ref = new ExpressionRef(
                        args[2].substring(0, args[2].lastIndexOf('#')),
                        args[2].substring(args[2].lastIndexOf('#') + 1));
                engine.open(rules, new PatientData("scale", data), Map.of()).evaluate(ref);
            });
        }
        List<Cost> costs = new ArrayList<>();
        for (RuleLibrary library : rules.libraries()) {
            for (ExpressionDef def : library.elm().getStatements().getDef()) {
                if (def instanceof FunctionDef || "Patient".equals(def.getName())) {
                    continue;
                }
                ExpressionRef ref = new ExpressionRef(library.url(), def.getName());
                String[] failure = {null};
                Runnable one = () -> {
                    ExpressionResult r = engine.open(rules, new PatientData("scale", data), Map.of())
                            .evaluate(ref);
                    if (r.failure() != null) {
                        failure[0] = r.failure().message();
                    }
                };
                one.run();
                double[] m = measure(one, repeats);
                costs.add(new Cost(library.name() + "." + def.getName(), m[0], m[1], failure[0]));
            }
        }
        costs.sort((a, b) -> Double.compare(b.cpuMs(), a.cpuMs()));
        System.out.printf(
                "%d Observations; each definition alone (with its dependencies), median of %d%n", size, repeats);
        System.out.printf("%10s %10s  %s%n", "cpu ms", "alloc MB", "definition");
        for (Cost c : costs) {
            System.out.printf(
                    "%10.2f %10.2f  %s%s%n",
                    c.cpuMs(), c.allocatedMb(), c.name(), c.failure() == null ? "" : "  FAILED: " + c.failure());
        }
        double[] whole = measure(call, repeats * 2);
        System.out.printf("order-sign call: %.2f ms cpu, %.2f MB allocated%n", whole[0], whole[1]);
        System.exit(0);
    }

    /** JFR over 20 s of repeating one definition (library url#name), summarised into target/benchmark/expression-profile.md. */
    private static void profile(String what, Runnable work) {
        try {
            long end = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < end) {
                work.run();
            }
            java.nio.file.Path file = java.nio.file.Path.of("target", "benchmark", "expression.jfr");
            java.nio.file.Files.createDirectories(file.getParent());
            try (jdk.jfr.Recording recording =
                    new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"))) {
                recording.start();
                end = System.nanoTime() + 20_000_000_000L;
                while (System.nanoTime() < end) {
                    work.run();
                }
                recording.stop();
                recording.dump(file);
            }
            JfrSummary.write(file, java.nio.file.Path.of("target", "benchmark", "expression-profile.md"));
            allocations(file);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        System.exit(0);
    }

    /** Sampled allocation weight by the engine operator (the nearest *Evaluator frame) that allocated it. */
    private static void allocations(java.nio.file.Path file) throws java.io.IOException {
        Map<String, Long> byOperator = new java.util.HashMap<>();
        long total = 0;
        for (var event : jdk.jfr.consumer.RecordingFile.readAllEvents(file)) {
            if (!event.getEventType().getName().equals("jdk.ObjectAllocationSample") || event.getStackTrace() == null) {
                continue;
            }
            long weight = event.getLong("weight");
            total += weight;
            String where = "(other)";
            for (var frame : event.getStackTrace().getFrames()) {
                String type = frame.getMethod().getType().getName();
                if (type.contains("Evaluator") || type.startsWith("org.crlm")) {
                    where = type.substring(type.lastIndexOf('.') + 1) + "."
                            + frame.getMethod().getName();
                    break;
                }
            }
            byOperator.merge(where, weight, Long::sum);
        }
        long all = total;
        System.out.println("Allocation by operator (share of sampled bytes):");
        byOperator.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(25)
                .forEach(e -> System.out.printf("%6.1f%%  %s%n", 100.0 * e.getValue() / all, e.getKey()));
    }

    /** Median processor time (ms) and allocation (MB) over all threads of one run of the work. */
    private static double[] measure(Runnable work, int repeats) {
        double[] cpu = new double[repeats];
        double[] alloc = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long[] before = totals();
            work.run();
            long[] after = totals();
            cpu[i] = (after[0] - before[0]) / 1e6;
            alloc[i] = (after[1] - before[1]) / 1e6;
        }
        Arrays.sort(cpu);
        Arrays.sort(alloc);
        return new double[] {cpu[repeats / 2], alloc[repeats / 2]};
    }

    private static long[] totals() {
        long[] ids = THREADS.getAllThreadIds();
        long cpu = 0;
        for (long t : THREADS.getThreadCpuTime(ids)) {
            cpu += Math.max(0, t);
        }
        long alloc = 0;
        for (long a : THREADS.getThreadAllocatedBytes(ids)) {
            alloc += Math.max(0, a);
        }
        return new long[] {cpu, alloc};
    }
}
