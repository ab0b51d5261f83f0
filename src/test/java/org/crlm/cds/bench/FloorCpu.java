package org.crlm.cds.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;

/**
 * Load-independent figures of the engine floor, for before/after comparisons on a shared machine
 * (run each side's classes alternately): process CPU time per call and voluntary context switches
 * per call (each thread handoff parks and wakes a thread), next to wall time. Warms up for three
 * phases of both calls, then measures each call three times. Argument: seconds per phase (10).
 *
 * <pre>java -cp target/test-classes:target/classes:$(cat cp.txt) org.crlm.cds.bench.FloorCpu 10</pre>
 */
public final class FloorCpu {
    /** Voluntary context switches of all the process's threads so far (a thread parking and being woken). */
    static long switches() throws Exception {
        long sum = 0;
        try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/task"))) {
            for (var task : tasks.toList()) {
                try {
                    for (String line : java.nio.file.Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            sum += Long.parseLong(
                                    line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (java.io.IOException ended) {
                }
            }
        }
        return sum;
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        EngineFloorBenchmark floor = new EngineFloorBenchmark();
        floor.setUp();
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long warmEnd = System.nanoTime() + 3L * seconds * 1_000_000_000L;
        while (System.nanoTime() < warmEnd) {
            floor.engineFloor();
            floor.engineFloorPatientView();
        }
        for (String which : new String[] {"engineFloor", "engineFloorPatientView"}) {
            Runnable call = which.equals("engineFloor") ? floor::engineFloor : floor::engineFloorPatientView;
            long end;
            for (int round = 0; round < 3; round++) {
                long cs0 = switches();
                long cpu0 = os.getProcessCpuTime();
                long t0 = System.nanoTime();
                int n = 0;
                end = t0 + seconds * 1_000_000_000L;
                while (System.nanoTime() < end) {
                    call.run();
                    n++;
                }
                long cpu = os.getProcessCpuTime() - cpu0;
                long wall = System.nanoTime() - t0;
                long cs = switches() - cs0;
                System.out.printf(
                        "%s round %d: %d calls, CPU %.3f ms/call, wall %.3f ms/call, voluntary context switches %.1f/call, load %s%n",
                        which,
                        round,
                        n,
                        cpu / 1e6 / n,
                        wall / 1e6 / n,
                        (double) cs / n,
                        new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/loadavg")))
                                .split(" ")[0]);
            }
        }
        System.exit(0);
    }
}
