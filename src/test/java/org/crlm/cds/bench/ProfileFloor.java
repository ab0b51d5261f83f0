package org.crlm.cds.bench;

import java.nio.file.Path;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;

/** Profiles the engine floor in-process with JFR (the hot-path investigation of BENCHMARKS.md). */
public final class ProfileFloor {

    public static void main(String[] args) throws Exception {
        EngineFloorBenchmark floor = new EngineFloorBenchmark();
        floor.setUp();
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < end) {
            floor.engineFloor();
        }
        Path file = Path.of("target", "benchmark", "floor.jfr");
        try (Recording recording = new Recording(Configuration.getConfiguration("profile"))) {
            recording.start();
            int n = 0;
            long start = System.nanoTime();
            end = start + 20_000_000_000L;
            while (System.nanoTime() < end) {
                floor.engineFloor();
                n++;
            }
            System.out.printf(
                    "engine floor: %.2f ms per call over %d calls%n", (System.nanoTime() - start) / 1e6 / n, n);
            recording.stop();
            recording.dump(file);
        }
        JfrSummary.write(file, Path.of("target", "benchmark", "floor-profile.md"));
        System.exit(0);
    }
}
