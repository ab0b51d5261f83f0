package org.crlm.cds.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/** Where the server spent its CPU during the run: the top methods by own and by total (inclusive) samples. */
final class JfrSummary {

    private JfrSummary() {}

    static void write(Path recording, Path report) throws IOException {
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> total = new HashMap<>();
        int samples = 0;
        for (RecordedEvent event : RecordingFile.readAllEvents(recording)) {
            if (!event.getEventType().getName().equals("jdk.ExecutionSample") || event.getStackTrace() == null) {
                continue;
            }
            List<RecordedFrame> frames = event.getStackTrace().getFrames();
            if (frames.isEmpty()) {
                continue;
            }
            samples++;
            self.merge(name(frames.get(0)), 1, Integer::sum);
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (RecordedFrame frame : frames) {
                String n = name(frame);
                if (seen.add(n)) {
                    total.merge(n, 1, Integer::sum);
                }
            }
        }
        StringBuilder out = new StringBuilder("# Server CPU profile (JFR execution samples)\n\n")
                .append("Samples: ")
                .append(samples)
                .append("\n\n## Top 25 by own time\n\n| method | % |\n|---|---:|\n");
        top(self, 25, samples)
                .forEach((k, v) ->
                        out.append("| `").append(k).append("` | ").append(v).append(" |\n"));
        out.append("\n## Top 40 by total time (method on the stack)\n\n| method | % |\n|---|---:|\n");
        top(total, 40, samples)
                .forEach((k, v) ->
                        out.append("| `").append(k).append("` | ").append(v).append(" |\n"));
        Files.writeString(report, out.toString());
        System.out.println("Wrote " + report);
    }

    private static String name(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }

    private static Map<String, String> top(Map<String, Integer> counts, int n, int samples) {
        Map<String, String> out = new LinkedHashMap<>();
        counts.entrySet().stream()
                .sorted((a, b) -> b.getValue() - a.getValue())
                .limit(n)
                .forEach(e -> out.put(
                        e.getKey(), String.format(java.util.Locale.ROOT, "%.1f", 100.0 * e.getValue() / samples)));
        return out;
    }
}
