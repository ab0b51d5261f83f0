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
        Map<String, Integer> parts = new LinkedHashMap<>();
        PARTS.forEach((part, markers) -> parts.put(part, 0));
        parts.put("other", 0);
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
            parts.merge(part(event, frames), 1, Integer::sum);
        }
        StringBuilder out = new StringBuilder("# Server CPU profile (JFR execution samples)\n\n")
                .append("Samples: ")
                .append(samples)
                .append("\n\n## Top 25 by own time\n\n| method | % |\n|---|---:|\n");
        top(self, 25, samples)
                .forEach((k, v) ->
                        out.append("| `").append(k).append("` | ").append(v).append(" |\n"));
        out.append(
                "\n## By part of the call (first match from the innermost frame's part list)\n\n| part | % |\n|---|---:|\n");
        int all = samples;
        parts.forEach((part, n) -> out.append("| ")
                .append(part)
                .append(" | ")
                .append(String.format(java.util.Locale.ROOT, "%.1f", 100.0 * n / Math.max(1, all)))
                .append(" |\n"));
        out.append("\n## Top 40 by total time (method on the stack)\n\n| method | % |\n|---|---:|\n");
        top(total, 40, samples)
                .forEach((k, v) ->
                        out.append("| `").append(k).append("` | ").append(v).append(" |\n"));
        Files.writeString(report, out.toString());
        System.out.println("Wrote " + report);
    }

    /**
     * Parts of a hook call, each recognised by a class or method on the sample's stack (checked in
     * this order, so a sample of CQL evaluation inside the decision counts once, as CQL).
     */
    private static final Map<String, List<String>> PARTS = partList();

    private static Map<String, List<String>> partList() {
        Map<String, List<String>> parts = new LinkedHashMap<>();
        parts.put("JIT / GC / VM threads (no Java frames of the call)", List.of());
        parts.put("CQL evaluation (engine)", List.of("org.opencds.cqf.cql.engine."));
        parts.put(
                "decision outside the engine",
                List.of("org.crlm.cds.knowledge.DecisionEvaluator", "org.crlm.cds.rules."));
        parts.put("JWT verification", List.of("org.crlm.cds.security.CdsJwtVerifier", "com.nimbusds."));
        parts.put(
                "audit + issued cards (transaction)",
                List.of(
                        "org.crlm.cds.ops.AuditTrail",
                        "org.springframework.transaction.",
                        "org.hibernate.",
                        "org.postgresql.",
                        "com.zaxxer."));
        parts.put(
                "FHIR parsing (prefetch, draft orders)",
                List.of("org.crlm.cds.cdshooks.FhirJsonReader", "ca.uhn.fhir.parser."));
        parts.put("request JSON read", List.of("org.crlm.cds.security.JsonBodyReader"));
        parts.put(
                "request checks + prefetch",
                List.of("org.crlm.cds.cdshooks.HookRequestParser", "org.crlm.cds.cdshooks.PrefetchResolver"));
        parts.put(
                "cards",
                List.of(
                        "org.crlm.cds.cdshooks.CardDeck",
                        "org.crlm.cds.cdshooks.CardFactory",
                        "org.crlm.cds.cdshooks.MarkdownText"));
        parts.put("response JSON write", List.of("org.crlm.cds.cdshooks.CdsJson"));
        parts.put("metrics", List.of("io.micrometer.", "org.crlm.cds.ops.HookMetrics"));
        parts.put("logging", List.of("ch.qos.logback.", "org.slf4j.", "org.crlm.cds.ops.CdsCallLog"));
        parts.put("HTTP (Tomcat, Spring MVC, filters)", List.of("org.apache.", "org.springframework."));
        return parts;
    }

    private static String part(RecordedEvent event, List<RecordedFrame> frames) {
        for (Map.Entry<String, List<String>> part : PARTS.entrySet()) {
            for (RecordedFrame frame : frames) {
                String type = frame.getMethod().getType().getName();
                for (String marker : part.getValue()) {
                    if (type.startsWith(marker)) {
                        return part.getKey();
                    }
                }
            }
        }
        return "other";
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
