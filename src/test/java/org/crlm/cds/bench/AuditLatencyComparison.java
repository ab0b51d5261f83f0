package org.crlm.cds.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.support.PackagedServerArguments;
import org.crlm.cds.support.PostgresTestDatabase;
import org.crlm.cds.support.TestKeys;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * order-sign latency of two builds of the server, measured back to back by the same load on the
 * same machine: by default the commit before the durable audit (audit and issued cards written
 * by a background queue after the answer) and the commit that writes them in one transaction
 * before answering. Driven by src/test/bench/audit-before-after.sh, which builds both jars.
 *
 * <p>Arguments: {@code label=path/to.jar ...} in the order to run them (each server runs in the
 * directory {@code label} beside its jar when there is one: that commit's cql/ and fhir-resources/), then options {@code
 * --rounds N} (alternate the jars N times; default 1), {@code --warmup S}, {@code --measure S},
 * {@code --postgres} (the server on a fresh database of the test PostgreSQL instead of embedded H2).
 * Writes target/benchmark/audit-before-after.md.
 */
public final class AuditLatencyComparison {

    private static final String PLACEHOLDER = "00000000-0000-0000-0000-000000000000";

    public static void main(String[] rawArgs) throws Exception {
        String[] args = String.join(" ", rawArgs).trim().split("\\s+");
        Map<String, Path> jars = new LinkedHashMap<>();
        int rounds = 1;
        Duration warmUp = Duration.ofSeconds(60);
        Duration measure = Duration.ofSeconds(30);
        boolean postgres = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmUp = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--measure" -> measure = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--postgres" -> postgres = true;
                default -> {
                    String[] pair = args[i].split("=", 2);
                    jars.put(pair[0], Path.of(pair[1]));
                }
            }
        }
        Path out = Files.createDirectories(Path.of("target", "benchmark"));
        RuleSet rules = BenchData.rules(BenchData.knowledge());
        ServiceDefinition orderSign = BenchData.service(rules, "crlm-ablation-order-sign");
        List<IBaseResource> record = BenchData.demoRecord();
        String body = template(BenchData.request(
                orderSign,
                rules,
                BenchData.PATIENT,
                BenchData.withoutOrders(record),
                BenchData.draftOrders(record),
                true));

        List<String> rows = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            for (Map.Entry<String, Path> jar : jars.entrySet()) {
                for (double[] r : measure(jar.getValue(), body, warmUp, measure, postgres, out)) {
                    String row = String.format(
                            Locale.ROOT,
                            "| %s | %d | %d | %.1f | %.1f | %.1f | %d | %d |",
                            jar.getKey(),
                            round,
                            (int) r[0],
                            r[1],
                            r[2],
                            r[3],
                            (long) r[4],
                            (long) r[5]);
                    System.out.println(row);
                    rows.add(row);
                }
            }
        }
        StringBuilder report = new StringBuilder()
                .append("# order-sign with prefetch: before vs after the durable audit\n\n")
                .append(String.format(
                        Locale.ROOT,
                        "Database: %s; warm-up %d s at concurrency 8, then %d s measured per concurrency; "
                                + "load average at the end %.1f on %d cores.%n%n",
                        postgres ? "PostgreSQL" : "embedded H2 (bench profile)",
                        warmUp.toSeconds(),
                        measure.toSeconds(),
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                                .getSystemLoadAverage(),
                        Runtime.getRuntime().availableProcessors()))
                .append("| build | round | concurrency | p50 ms | p99 ms | calls/s | calls | errors |\n")
                .append("|---|---|---|---|---|---|---|---|\n");
        rows.forEach(r -> report.append(r).append('\n'));
        Files.writeString(out.resolve("audit-before-after.md"), report.toString());
        System.out.println(report);
        System.exit(0);
    }

    /** Per concurrency (1, then 8): concurrency, p50, p99, calls/s, calls, errors. */
    private static List<double[]> measure(
            Path jar, String body, Duration warmUp, Duration measure, boolean postgres, Path out) throws Exception {
        TestKeys keys = TestKeys.get();
        int port = TestKeys.freePort();
        Path work = Files.createTempDirectory(out.toAbsolutePath(), "audit-compare-");
        PostgresTestDatabase db = postgres ? new PostgresTestDatabase() : null;
        List<String> app = new ArrayList<>(List.of(
                "--spring.profiles.active=" + (postgres ? "bench,postgres" : "bench"),
                "--crlm.data-dir=" + work.resolve("data").toAbsolutePath(),
                "--crlm.knowledge.load-demo-data=true",
                "--crlm.cds.local-store-is-patient-record=true",
                "--crlm.security.cds-client.max-lifetime=60m",
                "--crlm.fhir.public-base-url=http://127.0.0.1:" + port + "/fhir"));
        app.addAll(PackagedServerArguments.checkedWith(keys));
        if (db != null) {
            app.add("--spring.datasource.url=" + db.url());
            app.add("--spring.datasource.username=" + db.user);
            app.add("--spring.datasource.password=" + db.password);
        }
        List<double[]> results = new ArrayList<>();
        String label = jar.getFileName().toString().replaceFirst("\\.jar$", "");
        Path checkout = jar.toAbsolutePath().resolveSibling(label);
        Path directory = Files.isDirectory(checkout.resolve("cql")) ? checkout : Path.of(".");
        try (ServerProcess server = new ServerProcess(jar, port, work, List.of("-Xms1g", "-Xmx1g"), app, directory)) {
            server.awaitReady(Duration.ofMinutes(15));
            String url = server.base() + "/cds-services/crlm-ablation-order-sign";
            TokenPool tokens = new TokenPool(url);
            LoadGenerator load = new LoadGenerator();
            load.run(
                    "JIT warm-up",
                    8,
                    Duration.ZERO,
                    warmUp,
                    () -> new LoadGenerator.Call(url, fresh(body), tokens.next()));
            for (int concurrency : new int[] {1, 8}) {
                tokens.fill(concurrency == 1 ? 3000 : 8000);
                LoadGenerator.Result r = load.run(
                        "order-sign c=" + concurrency,
                        concurrency,
                        Duration.ofSeconds(5),
                        measure,
                        () -> new LoadGenerator.Call(url, fresh(body), tokens.next()));
                results.add(
                        new double[] {concurrency, r.millis(50), r.millis(99), r.throughput(), r.requests(), r.errors()
                        });
            }
        } finally {
            if (db != null) {
                db.close();
            }
        }
        return results;
    }

    private static String template(ObjectNode request) {
        request.put("hookInstance", PLACEHOLDER);
        return request.toString();
    }

    private static String fresh(String template) {
        return template.replace(PLACEHOLDER, UUID.randomUUID().toString());
    }
}
