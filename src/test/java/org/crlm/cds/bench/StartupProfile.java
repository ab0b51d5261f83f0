package org.crlm.cds.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a server start spends its time, from a JFR recording of a start made with
 * {@code -Dcrlm.startup-steps=true -XX:StartFlightRecording=filename=start.jfr,settings=profile}
 * (Spring's start-up steps are then JFR events): Spring's steps by own time (a bean's creation less
 * the beans it created meanwhile), HAPI's resource DAOs added up, and the CPU samples of every
 * thread by the library they were in. Usage: {@code java -cp ... org.crlm.cds.bench.StartupProfile start.jfr}.
 */
public final class StartupProfile {

    private static final String STEP = "org.springframework.core.metrics.jfr.FlightRecorderStartupEvent";

    /** Checked from the innermost frame outwards: the first frame in one of these packages names the part. */
    private static final Map<String, List<String>> LIBRARIES = new LinkedHashMap<>();

    static {
        LIBRARIES.put("H2 database", List.of("org.h2."));
        LIBRARIES.put("Hibernate", List.of("org.hibernate."));
        LIBRARIES.put("Flyway", List.of("org.flywaydb."));
        LIBRARIES.put("CQL translator/engine", List.of("org.cqframework.", "org.opencds.", "org.hl7.elm", "org.antlr"));
        LIBRARIES.put(
                "FHIR model, parsers, validation support",
                List.of(
                        "org.hl7.fhir.",
                        "ca.uhn.fhir.context",
                        "ca.uhn.fhir.parser",
                        "ca.uhn.fhir.util",
                        "ca.uhn.fhir.model",
                        "org.fhir.ucum",
                        "com.ctc.wstx",
                        "com.fasterxml"));
        LIBRARIES.put("HAPI JPA server", List.of("ca.uhn.fhir."));
        LIBRARIES.put("this application", List.of("org.crlm."));
        LIBRARIES.put(
                "Spring (bean factory, AOP, proxies)", List.of("org.springframework.", "net.bytebuddy", "org.aspectj"));
        LIBRARIES.put("Tomcat", List.of("org.apache.catalina.", "org.apache.tomcat.", "org.apache.coyote."));
        LIBRARIES.put(
                "class loading, reflection, zip",
                List.of(
                        "java.lang.ClassLoader",
                        "jdk.internal.loader",
                        "java.util.zip",
                        "java.util.jar",
                        "java.lang.Class.",
                        "java.lang.reflect",
                        "jdk.internal.reflect",
                        "sun.reflect",
                        "java.lang.invoke"));
    }

    private record Step(long id, long parent, String name, String tags, Instant start, Duration duration) {}

    public static void main(String[] args) throws Exception {
        Path recording = Path.of(args[0]);
        List<Step> steps = new ArrayList<>();
        Map<String, Integer> byLibrary = new LinkedHashMap<>();
        Map<String, Integer> byThread = new HashMap<>();
        Map<String, Integer> byTop = new HashMap<>();
        int samples = 0;
        for (RecordedEvent event : RecordingFile.readAllEvents(recording)) {
            String type = event.getEventType().getName();
            if (type.equals(STEP)) {
                steps.add(new Step(
                        event.getLong("eventId"),
                        event.getLong("parentId"),
                        event.getString("name"),
                        event.getString("tags"),
                        event.getStartTime(),
                        event.getDuration()));
            } else if (type.equals("jdk.ExecutionSample") && event.getStackTrace() != null) {
                List<RecordedFrame> frames = event.getStackTrace().getFrames();
                if (frames.isEmpty()) {
                    continue;
                }
                samples++;
                String thread = event.getThread("sampledThread") == null
                        ? "?"
                        : event.getThread("sampledThread").getJavaName();
                byThread.merge(thread.replaceAll("[0-9]+", "#"), 1, Integer::sum);
                byLibrary.merge(library(frames), 1, Integer::sum);
                byTop.merge(name(frames.get(0)), 1, Integer::sum);
            }
        }
        System.out.printf(Locale.ROOT, "%d Spring start-up steps, %d CPU samples%n%n", steps.size(), samples);

        Map<Long, Duration> children = new HashMap<>();
        for (Step s : steps) {
            children.merge(s.parent(), s.duration(), Duration::plus);
        }
        Map<String, Double> self = new HashMap<>();
        double daoSelf = 0;
        int daos = 0;
        for (Step s : steps) {
            double ms = (s.duration().toNanos()
                            - children.getOrDefault(s.id(), Duration.ZERO).toNanos())
                    / 1e6;
            String key = s.name() + " " + bean(s.tags());
            self.merge(key, ms, Double::sum);
            if (bean(s.tags()).matches("my\\w+DaoR4|\\w+DaoR4")) {
                daoSelf += ms;
                daos++;
            }
        }
        System.out.println("Top-level steps (wall ms):");
        steps.stream()
                .filter(s -> s.duration().toMillis() >= 20)
                .filter(s -> s.parent() == 0 || steps.stream().noneMatch(p -> p.id() == s.parent()))
                .sorted((a, b) -> a.start().compareTo(b.start()))
                .forEach(s -> System.out.printf(
                        Locale.ROOT, "  %8.0f  %s %s%n", s.duration().toNanos() / 1e6, s.name(), bean(s.tags())));
        System.out.printf(Locale.ROOT, "%nHAPI resource DAO beans: %d, own time %.0f ms%n", daos, daoSelf);
        System.out.println("\nTop 40 steps by own wall time (ms):");
        self.entrySet().stream()
                .sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                .limit(40)
                .forEach(e -> System.out.printf(Locale.ROOT, "  %8.0f  %s%n", e.getValue(), e.getKey()));
        print("CPU samples by library (innermost frame in a known package)", byLibrary, samples, 20);
        print("CPU samples by thread", byThread, samples, 15);
        print("CPU samples by own method", byTop, samples, 25);
    }

    private static void print(String title, Map<String, Integer> counts, int samples, int limit) {
        System.out.println("\n" + title + ":");
        counts.entrySet().stream()
                .sorted((a, b) -> b.getValue() - a.getValue())
                .limit(limit)
                .forEach(e -> System.out.printf(
                        Locale.ROOT, "  %5.1f%%  %s%n", 100.0 * e.getValue() / Math.max(1, samples), e.getKey()));
    }

    private static String library(List<RecordedFrame> frames) {
        for (RecordedFrame frame : frames) {
            String n = name(frame);
            for (Map.Entry<String, List<String>> library : LIBRARIES.entrySet()) {
                if (library.getValue().stream().anyMatch(n::startsWith)) {
                    return library.getKey();
                }
            }
        }
        return "JDK / other";
    }

    private static String bean(String tags) {
        if (tags == null) {
            return "";
        }
        int i = tags.indexOf("beanName=");
        if (i < 0) {
            return "";
        }
        int end = tags.indexOf(',', i);
        return tags.substring(i + "beanName=".length(), end < 0 ? tags.length() - (tags.endsWith("}") ? 1 : 0) : end);
    }

    private static String name(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }
}
