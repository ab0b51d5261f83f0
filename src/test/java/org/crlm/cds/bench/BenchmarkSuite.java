package org.crlm.cds.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.support.ApplyClient;
import org.crlm.cds.support.FhirClients;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.PackagedServerArguments;
import org.crlm.cds.support.TestKeys;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The whole benchmark in one run on one machine (README: Benchmarks):
 * <ol>
 *   <li>the engine floor and the $apply baseline (JMH, forked JVMs, before the server starts);</li>
 *   <li>the server from the fat jar: time to ready, first hook call after ready, heap after start;</li>
 *   <li>HTTP on loopback: order-sign with prefetch, patient-view with prefetch, order-sign with
 *       no prefetch (local store), each at concurrency 1, 8 and 32;</li>
 *   <li>scale: 10 to 10 000 Observations, prefetch and local store;</li>
 *   <li>CQL translations before and after (must not change), heap under load.</li>
 * </ol>
 * Writes target/benchmark/report.md, results.json and latency-vs-size.svg.
 * Options: --jit-warmup S (mixed traffic before the first phase), --warmup S, --measure S, --scale-measure S, --quick, --profile (JFR on the server during
 * order-sign at concurrency 8), --profile-at N (the same at concurrency N), --profile-scenario NAME (the
 * phase to profile, by the start of its name, spaces as underscores; several separated by |), --skip-jmh, --skip-scale,
 * --jar PATH (the server to measure, e.g. another commit's jar, to compare with the same load
 * generator), --out DIR (instead of target/benchmark), --cds (the server as src/main/scripts/cds-archive.sh leaves
 * it: the extracted jar in target/app with its Class Data Sharing archive), --rate N (the open-loop phase of order-sign
 * with prefetch at N calls/s; by default at 0.5 and 0.9 times the closed-loop throughput at
 * concurrency 8), --only KEYS (the closed-loop scenarios to run, comma-separated among sign, view,
 * local, apply; the open-loop phase runs with sign).
 */
public final class BenchmarkSuite {

    private static final String PLACEHOLDER_INSTANCE = "00000000-1111-4222-8333-444444444444";

    private Path out = Path.of("target", "benchmark");
    private Path jar = Path.of("target", "crlm-ablation-cds.jar");
    private Duration warmUp = Duration.ofSeconds(10);
    private Duration measure = Duration.ofSeconds(30);
    private Duration scaleMeasure = Duration.ofSeconds(10);
    private Duration jitWarmUp = Duration.ofSeconds(90);
    private boolean profile;
    private boolean skipJmh;
    private boolean skipScale;
    private boolean cds;
    private int profileConcurrency = 8;
    private String profileScenario = "order-sign, prefetch";
    private final List<String> profiledPhases = new ArrayList<>();
    private Double openLoopRate;
    private List<String> only = List.of("sign", "view", "local", "apply");
    private final List<LoadGenerator.OpenLoopResult> openLoop = new ArrayList<>();
    private final Map<String, Object> results = new LinkedHashMap<>();
    private final Map<Integer, String> scaleAnswers = new LinkedHashMap<>();
    private final Map<String, String> phaseAnswers = new LinkedHashMap<>();
    private final Map<String, String> storeReads = new LinkedHashMap<>();
    private final StringBuilder report = new StringBuilder();

    public static void main(String[] rawArgs) throws Exception {
        BenchmarkSuite suite = new BenchmarkSuite();
        // Maven passes -Dbench.args as one argument: split it.
        String[] args = String.join(" ", rawArgs).trim().split("\\s+");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> suite.warmUp = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--measure" -> suite.measure = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--jit-warmup" -> suite.jitWarmUp = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--scale-measure" -> suite.scaleMeasure = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--quick" -> {
                    suite.warmUp = Duration.ofSeconds(3);
                    suite.measure = Duration.ofSeconds(5);
                    suite.scaleMeasure = Duration.ofSeconds(4);
                    suite.jitWarmUp = Duration.ofSeconds(15);
                }
                case "--profile" -> suite.profile = true;
                case "--profile-at" -> {
                    suite.profile = true;
                    suite.profileConcurrency = Integer.parseInt(args[++i]);
                }
                case "--profile-scenario" -> suite.profileScenario = args[++i].replace('_', ' ');
                case "--skip-jmh" -> suite.skipJmh = true;
                case "--skip-scale" -> suite.skipScale = true;
                case "--jar" -> suite.jar = Path.of(args[++i]);
                case "--cds" -> suite.cds = true;
                case "--rate" -> suite.openLoopRate = Double.parseDouble(args[++i]);
                case "--only" -> suite.only = List.of(args[++i].split(","));
                case "--out" -> suite.out = Path.of(args[++i]);
                case "--full", "" -> {
                    // the defaults
                }
                default -> throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }
        try {
            suite.run();
        } catch (Exception | Error e) {
            // The token signer's JWKS server would keep the JVM (and Maven) waiting forever.
            e.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    private void run() throws Exception {
        Files.createDirectories(out);
        if (!Files.exists(jar)) {
            throw new IllegalStateException("Build the jar first: mvn -q -DskipTests package");
        }
        environment();
        Map<String, double[]> jmh = skipJmh ? Map.of() : jmh();

        KnowledgeResources knowledge = BenchData.knowledge();
        RuleSet rules = BenchData.rules(knowledge);
        TestKeys keys = TestKeys.get();
        int port = TestKeys.freePort();
        List<String> jvm = new ArrayList<>(List.of(
                "-Xms1g",
                "-Xmx1g",
                "-Xlog:gc:file=" + out.resolve("server-gc.log").toAbsolutePath()));
        if (cds) {
            Path archive = Path.of("target", "app", "app.jsa");
            if (!Files.exists(archive)) {
                throw new IllegalStateException("Make the archive first: src/main/scripts/cds-archive.sh");
            }
            jar = Path.of("target", "app", "crlm-ablation-cds.jar");
            jvm.add("-XX:SharedArchiveFile=" + archive.toAbsolutePath());
        }

        List<String> app = new ArrayList<>(List.of(
                "--spring.profiles.active=bench",
                "--crlm.data-dir=" + out.resolve("data-" + port).toAbsolutePath(),
                "--crlm.knowledge.load-demo-data=true",
                // The no-prefetch scenarios read the record from this server's own store.
                "--crlm.cds.local-store-is-patient-record=true",
                "--crlm.security.cds-client.max-lifetime=60m",
                // Scale only: a 10 000-Observation prefetch is larger than the production request limits.
                "--crlm.security.limits.max-body-size=64MB",
                "--crlm.security.limits.max-elements=5000000",
                "--crlm.fhir.max-transaction-entries=20000",
                "--crlm.fhir.public-base-url=http://127.0.0.1:" + port + "/fhir",
                "--crlm.cds.max-resources-per-query=20000"));
        app.addAll(PackagedServerArguments.checkedWith(keys));

        try (ServerProcess server = new ServerProcess(jar, port, out, jvm, app)) {
            double ready = server.awaitReady(Duration.ofMinutes(15));
            Double started = server.logged("Started CrlmCdsApplication in ([0-9.]+) seconds");
            Double warm = server.logged("Warm-up: \\d+ hook calls on a synthetic patient in ([0-9]+) ms");
            System.out.printf("Server ready after %.1f s%n", ready);

            ServiceDefinition orderSign = BenchData.service(rules, "crlm-ablation-order-sign");
            ServiceDefinition patientView = BenchData.service(rules, "crlm-ablation-patient-view");
            List<IBaseResource> record = BenchData.demoRecord();
            List<IBaseResource> withoutOrders = BenchData.withoutOrders(record);
            List<IBaseResource> drafts = BenchData.draftOrders(record);
            String signUrl = server.base() + "/cds-services/crlm-ablation-order-sign";
            String viewUrl = server.base() + "/cds-services/crlm-ablation-patient-view";
            String signPrefetch =
                    template(BenchData.request(orderSign, rules, BenchData.PATIENT, withoutOrders, drafts, true));
            String viewPrefetch =
                    template(BenchData.request(patientView, rules, BenchData.PATIENT, record, List.of(), true));
            String signLocal =
                    template(BenchData.request(orderSign, rules, BenchData.PATIENT, withoutOrders, drafts, false));

            // The exact bodies, so a run can be replayed with any HTTP load tool.
            Path requests = Files.createDirectories(out.resolve("requests"));
            Files.writeString(requests.resolve("order-sign-prefetch.json"), fresh(signPrefetch));
            Files.writeString(requests.resolve("patient-view-prefetch.json"), fresh(viewPrefetch));
            Files.writeString(requests.resolve("order-sign-local-store.json"), fresh(signLocal));

            TokenPool signTokens = new TokenPool(signUrl);
            TokenPool viewTokens = new TokenPool(viewUrl);
            signTokens.fill(50);
            LoadGenerator load = new LoadGenerator().measuringServerCpu(server::cpuNanos);
            double first = load.once(new LoadGenerator.Call(signUrl, fresh(signPrefetch), signTokens.next()));
            double heapAfterStart = server.heapAfterGcMb();
            double translationsBefore = server.prometheus("cql_translations_total");
            System.out.printf(
                    "First order-sign after ready: %.1f ms; heap after start %.0f MB%n", first, heapAfterStart);

            // The JIT needs minutes of traffic before the server runs at its steady speed (the C2
            // compiler alone used a core for the first minute in our runs): warm every call shape
            // before any phase is measured.
            // Tokens are signed on the fly here (slower, but nothing is measured).
            long jitStart = System.nanoTime();
            Duration slice = jitWarmUp.dividedBy(3);
            load.run(
                    "JIT warm-up local",
                    8,
                    Duration.ZERO,
                    slice,
                    () -> new LoadGenerator.Call(signUrl, fresh(signLocal), signTokens.next()));
            load.run(
                    "JIT warm-up view",
                    8,
                    Duration.ZERO,
                    slice,
                    () -> new LoadGenerator.Call(viewUrl, fresh(viewPrefetch), viewTokens.next()));
            load.run(
                    "JIT warm-up sign",
                    8,
                    Duration.ZERO,
                    slice,
                    () -> new LoadGenerator.Call(signUrl, fresh(signPrefetch), signTokens.next()));
            System.out.printf(
                    "JIT warm-up: %.0f s of mixed calls at concurrency 8%n", (System.nanoTime() - jitStart) / 1e9);
            signTokens.resetMadeDuringPhase();
            viewTokens.resetMadeDuringPhase();

            // What each measured call answers (the same cards with and without prefetch).
            phaseAnswers.put(
                    "order-sign, prefetch",
                    load.ruleIds(new LoadGenerator.Call(signUrl, fresh(signPrefetch), signTokens.next()))
                            .toString());
            phaseAnswers.put(
                    "patient-view, prefetch",
                    load.ruleIds(new LoadGenerator.Call(viewUrl, fresh(viewPrefetch), viewTokens.next()))
                            .toString());
            phaseAnswers.put(
                    "order-sign, no prefetch (local store)",
                    load.ruleIds(new LoadGenerator.Call(signUrl, fresh(signLocal), signTokens.next()))
                            .toString());
            // Both data paths must give the very same cards (rule, indicator, summary), or the
            // timing compares different work: the prefetch is built from the demo record with its
            // dates moved as the server moves them when it stores it (BenchData.demoRecord).
            List<String> signCardsPrefetch =
                    load.cards(new LoadGenerator.Call(signUrl, fresh(signPrefetch), signTokens.next()));
            List<String> signCardsLocal =
                    load.cards(new LoadGenerator.Call(signUrl, fresh(signLocal), signTokens.next()));
            if (!signCardsPrefetch.equals(signCardsLocal)) {
                throw new IllegalStateException("order-sign answers differ between prefetch " + signCardsPrefetch
                        + " and local store " + signCardsLocal);
            }

            // The anchor a user of HAPI's JPA starter gets: clinical-reasoning's $apply of the same
            // service PlanDefinition over HTTP, for the same patient read from the same store, the
            // draft orders sent as data and the signed orders as "Hook Order Ids".
            String applyUrl = server.base() + "/fhir/PlanDefinition/crlm-ablation-order-sign/$apply";
            String applyBody = applyParameters(drafts);
            Http.Response applied = applyOnce(applyUrl, applyBody, keys.fhirToken("user/*.read"));
            phaseAnswers.put(APPLY_PHASE, ApplyClient.ruleIds(applied.json()).toString());
            if (!phaseAnswers.get(APPLY_PHASE).equals(phaseAnswers.get("order-sign, no prefetch (local store)"))) {
                throw new IllegalStateException("$apply and order-sign answer differently: " + phaseAnswers);
            }

            List<LoadGenerator.Result> http = new ArrayList<>();
            AtomicReference<Double> heapPeak = new AtomicReference<>(0.0);
            double rate = 100;
            for (String[] scenario : new String[][] {
                {"order-sign, prefetch", "sign", signPrefetch},
                {"patient-view, prefetch", "view", viewPrefetch},
                {"order-sign, no prefetch (local store)", "sign", signLocal},
                {APPLY_PHASE, "apply", applyBody}
            }) {
                if (!only.contains(scenario[0].startsWith("order-sign, no prefetch") ? "local" : scenario[1])) {
                    continue;
                }
                for (int concurrency : new int[] {1, 8, 32}) {
                    // $apply is called with one FHIR API token (valid 10 minutes, re-used as a client would).
                    TokenPool pool = scenario[1].equals("sign") ? signTokens : viewTokens;
                    String fhirToken = keys.fhirToken("user/*.read");
                    boolean isApply = scenario[1].equals("apply");
                    if (isApply && concurrency == 1) {
                        // Warmed just before its own phases: on a loaded machine $apply calls still
                        // running after their warm-up (each waits up to a minute) were found in the
                        // profile of the first hook phase, taking half its samples.
                        load.run(
                                "JIT warm-up $apply",
                                8,
                                Duration.ZERO,
                                slice,
                                () -> new LoadGenerator.Call(applyUrl, applyBody, fhirToken));
                    }
                    String url = isApply ? applyUrl : scenario[1].equals("sign") ? signUrl : viewUrl;
                    int needed =
                            (int) Math.min(60_000, rate * 1.6 * (warmUp.getSeconds() + measure.getSeconds()) + 200);
                    if (!isApply && pool.size() < needed) {
                        pool.fill(needed - pool.size());
                    }
                    AtomicBoolean sampling = new AtomicBoolean(concurrency == 32);
                    Thread heapSampler = heapSampler(server, sampling, heapPeak);
                    String body = scenario[2];
                    String phase = scenario[0];
                    boolean profiled = profile
                            && concurrency == profileConcurrency
                            && java.util.Arrays.stream(profileScenario.split("\\|"))
                                    .anyMatch(phase::startsWith);
                    if (profiled) {
                        jcmd(server, "JFR.start", "name=hot", "settings=profile");
                    }
                    double hitsBefore = counter(server, "cds.local.store.reads", "result:hit");
                    double missesBefore = counter(server, "cds.local.store.reads", "result:miss");
                    double crStoreBefore = counter(server, "cds.clinical.reasoning.searches", "result:store");
                    double crRepeatedBefore = counter(server, "cds.clinical.reasoning.searches", "result:repeated");
                    LoadGenerator.Result result = load.run(
                            scenario[0],
                            concurrency,
                            warmUp,
                            measure,
                            () -> new LoadGenerator.Call(url, fresh(body), isApply ? fhirToken : pool.next()));
                    sampling.set(false);
                    heapSampler.join();
                    // Local-store reads per call over the whole phase (warm-up included): from the
                    // cache (hit) or a JPA query (miss); the regression guard is LocalStoreReadsIT.
                    double hits = counter(server, "cds.local.store.reads", "result:hit") - hitsBefore;
                    double misses = counter(server, "cds.local.store.reads", "result:miss") - missesBefore;
                    if (hits + misses > 0) {
                        storeReads.put(
                                scenario[0] + " c=" + concurrency,
                                fmt(
                                        "%.0f reads from memory, %.0f JPA queries (%.2f %% of reads)",
                                        hits, misses, 100 * misses / (hits + misses)));
                        System.out.println("  local store: " + storeReads.get(scenario[0] + " c=" + concurrency));
                    }
                    double crStore = counter(server, "cds.clinical.reasoning.searches", "result:store") - crStoreBefore;
                    double crRepeated =
                            counter(server, "cds.clinical.reasoning.searches", "result:repeated") - crRepeatedBefore;
                    if (crStore + crRepeated > 0) {
                        storeReads.put(
                                scenario[0] + " c=" + concurrency,
                                fmt(
                                        "%.0f searches (record, terminology) run on the store, %.0f answered again within their request",
                                        crStore, crRepeated));
                        System.out.println("  $apply: " + storeReads.get(scenario[0] + " c=" + concurrency));
                    }
                    if (profiled) {
                        jcmd(
                                server,
                                "JFR.dump",
                                "name=hot",
                                "filename="
                                        + out.resolve(profileFile(phase, "jfr")).toAbsolutePath());
                        jcmd(server, "JFR.stop", "name=hot");
                        profiledPhases.add(phase);
                    }
                    rate = Math.max(rate, result.throughput());
                    http.add(result);
                    System.out.printf(
                            "%-40s c=%-3d %7.1f/s p50 %6.1f p90 %6.1f p99 %6.1f max %7.1f ms errors %d, server CPU %.2f ms/call%n",
                            scenario[0],
                            concurrency,
                            result.throughput(),
                            result.millis(50),
                            result.millis(90),
                            result.millis(99),
                            result.maxMillis(),
                            result.errors(),
                            result.serverCpuMillisPerCall());
                }
            }
            if (only.contains("sign")) {
                openLoop(http, signUrl, signPrefetch, signTokens);
            }
            long tokensSignedDuringPhases = signTokens.madeDuringPhase() + viewTokens.madeDuringPhase();

            List<double[]> scale = skipScale ? List.of() : scale(server, rules, orderSign, signUrl, load, signTokens);
            double translationsAfter = server.prometheus("cql_translations_total");

            write(
                    ready,
                    started,
                    warm,
                    first,
                    heapAfterStart,
                    heapPeak.get(),
                    http,
                    jmh,
                    scale,
                    translationsBefore,
                    translationsAfter,
                    tokensSignedDuringPhases);
        }
        // The run's database (hundreds of MB after the scale phase) is not kept.
        try (var files = Files.walk(out.resolve("data-" + port))) {
            files.sorted(java.util.Comparator.reverseOrder())
                    .forEach(f -> f.toFile().delete());
        }
        for (String phase : profiledPhases) {
            JfrSummary.write(out.resolve(profileFile(phase, "jfr")), out.resolve(profileFile(phase, "md")));
        }
    }

    // ---- phases ----

    /**
     * Order-sign with prefetch in an open loop at a fixed rate, latencies from each call's
     * intended send time: at the rate given (--rate), or at half and nine tenths of the
     * closed-loop throughput at concurrency 8 (the rate the server is known to sustain).
     */
    private void openLoop(List<LoadGenerator.Result> http, String url, String body, TokenPool tokens)
            throws InterruptedException {
        LoadGenerator.Result closed = find(http, "order-sign, prefetch", 8);
        List<Double> rates = new ArrayList<>();
        if (openLoopRate != null) {
            rates.add(openLoopRate);
        } else if (closed != null) {
            rates.add(Math.max(1, Math.round(closed.throughput() * 0.5)) * 1.0);
            rates.add(Math.max(1, Math.round(closed.throughput() * 0.9)) * 1.0);
        }
        LoadGenerator load = new LoadGenerator();
        for (double rate : rates) {
            int needed = (int) Math.min(200_000, rate * (warmUp.getSeconds() + measure.getSeconds()) * 1.1 + 100);
            if (tokens.size() < needed) {
                tokens.fill(needed - tokens.size());
            }
            LoadGenerator.OpenLoopResult result = load.openLoop(
                    "order-sign, prefetch",
                    rate,
                    64,
                    warmUp,
                    measure,
                    () -> new LoadGenerator.Call(url, fresh(body), tokens.next()));
            openLoop.add(result);
            System.out.printf(
                    "%-40s open loop at %6.0f/s: %7.1f/s p50 %6.1f p90 %6.1f p99 %6.1f max %7.1f ms late %d errors %d%n",
                    result.name(),
                    rate,
                    result.throughput(),
                    result.millis(50),
                    result.millis(90),
                    result.millis(99),
                    result.maxMillis(),
                    result.late(),
                    result.errors());
        }
    }

    private Map<String, double[]> jmh() throws Exception {
        // JMH refuses to start while another JMH run holds /tmp/jmh.lock (another user's on a shared machine).
        System.setProperty("jmh.ignoreLock", "true");
        Options options = new OptionsBuilder()
                .include(EngineFloorBenchmark.class.getName())
                .forks(1)
                .warmupIterations(3)
                .warmupTime(TimeValue.seconds(5))
                .measurementIterations(5)
                .measurementTime(TimeValue.seconds(5))
                .jvmArgs("-Xms1g", "-Xmx1g")
                // Allocations per call (gc.alloc.rate.norm, bytes per operation) beside the times.
                .addProfiler(org.openjdk.jmh.profile.GCProfiler.class)
                .build();
        Map<String, double[]> out = new LinkedHashMap<>();
        for (RunResult result : new Runner(options).run()) {
            var stats = result.getPrimaryResult().getStatistics();
            String name = result.getParams().getBenchmark().replaceAll(".*\\.", "");
            var allocated = result.getSecondaryResults().entrySet().stream()
                    .filter(e -> e.getKey().endsWith("gc.alloc.rate.norm"))
                    .map(e -> e.getValue().getScore())
                    .findFirst()
                    .orElse(Double.NaN);
            out.put(name, new double[] {
                stats.getPercentile(50),
                stats.getPercentile(90),
                stats.getPercentile(99),
                stats.getMean(),
                stats.getN(),
                allocated
            });
        }
        return out;
    }

    private List<double[]> scale(
            ServerProcess server,
            RuleSet rules,
            ServiceDefinition orderSign,
            String url,
            LoadGenerator load,
            TokenPool tokens)
            throws Exception {
        List<double[]> rows = new ArrayList<>();
        var fhir = FhirClients.client(server.base() + "/fhir", TestKeys.get().fhirToken("user/*.read", "user/*.write"));
        for (int size : new int[] {10, 100, 1000, 10_000}) {
            String patient = "bench-scale-" + size;
            List<IBaseResource> record = BenchData.scaledRecord(patient, size);
            Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
            for (IBaseResource r : record) {
                tx.addEntry()
                        .setResource((Resource) r)
                        .getRequest()
                        .setMethod(Bundle.HTTPVerb.PUT)
                        .setUrl(r.fhirType() + "/" + r.getIdElement().getIdPart());
            }
            long loading = System.nanoTime();
            fhir.transaction().withBundle(tx).execute();
            System.out.printf("Loaded %d Observations in %.1f s%n", size, (System.nanoTime() - loading) / 1e9);
            List<IBaseResource> drafts = List.of(BenchData.scaledOrder(patient));
            // size, then per mode (prefetch, local store): p50, p99, calls, errors
            double[] row = new double[9];
            row[0] = size;
            int column = 1;
            List<String> answers = new ArrayList<>();
            for (boolean prefetch : new boolean[] {true, false}) {
                String body = template(BenchData.request(orderSign, rules, patient, record, drafts, prefetch));
                answers.add(load.ruleIds(new LoadGenerator.Call(url, fresh(body), tokens.next()))
                        .toString());
                tokens.fill(400);
                LoadGenerator.Result r = load.sequential(
                        "scale " + size + (prefetch ? " prefetch" : " local"),
                        3,
                        5,
                        scaleMeasure,
                        () -> new LoadGenerator.Call(url, fresh(body), tokens.next()));
                row[column++] = r.millis(50);
                row[column++] = r.millis(99);
                row[column++] = r.requests();
                row[column++] = r.errors();
                System.out.printf(
                        "scale %5d %-8s p50 %7.1f p99 %7.1f ms (%d calls, %d errors)%n",
                        size, prefetch ? "prefetch" : "local", r.millis(50), r.millis(99), r.requests(), r.errors());
            }
            // Both data paths must give the same answer, or the timing compares different work.
            if (!answers.get(0).equals(answers.get(1))) {
                throw new IllegalStateException("Scale " + size + ": prefetch answered " + answers.get(0)
                        + " but the local store answered " + answers.get(1));
            }
            scaleAnswers.put(size, answers.get(0));
            rows.add(row);
        }
        return rows;
    }

    /** server.jfr / profile.md for the default phase, server-patient-view-prefetch.jfr etc. for others. */
    private String profileFile(String phase, String extension) {
        if (phase.startsWith("order-sign, prefetch")) {
            return extension.equals("jfr") ? "server.jfr" : "profile.md";
        }
        String slug = phase.toLowerCase(java.util.Locale.ROOT)
                .replaceAll("[^a-z0-9]+", "-")
                .replaceAll("-$", "");
        return (extension.equals("jfr") ? "server-" : "profile-") + slug + "." + extension;
    }

    /** A counter of the server, 0 where this server has none (a jar from before the counter). */
    private static double counter(ServerProcess server, String name, String tag) {
        try {
            return server.metric(name, tag);
        } catch (Exception e) {
            return 0;
        }
    }

    /** A jcmd command against the server (JFR for the hot-path profile). */
    private static void jcmd(ServerProcess server, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(server.pid())));
        args.addAll(List.of(command));
        new ProcessBuilder(args)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start()
                .waitFor();
    }

    private static Thread heapSampler(ServerProcess server, AtomicBoolean sampling, AtomicReference<Double> peak) {
        Thread t = new Thread(() -> {
            while (sampling.get()) {
                try {
                    double mb = server.metric("jvm.memory.used", "area:heap") / (1024 * 1024);
                    peak.accumulateAndGet(mb, Math::max);
                    Thread.sleep(1000);
                } catch (Exception e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    static final String APPLY_PHASE = "$apply order-sign PlanDefinition (local store, drafts as data)";

    /** The $apply Parameters: the patient, the draft orders as data, the signed orders as the CQL parameter. */
    private static String applyParameters(List<IBaseResource> drafts) {
        org.hl7.fhir.r4.model.Parameters parameters = new org.hl7.fhir.r4.model.Parameters();
        parameters.addParameter("subject", new org.hl7.fhir.r4.model.StringType("Patient/" + BenchData.PATIENT));
        org.hl7.fhir.r4.model.Bundle data =
                new org.hl7.fhir.r4.model.Bundle().setType(org.hl7.fhir.r4.model.Bundle.BundleType.COLLECTION);
        org.hl7.fhir.r4.model.Parameters cql = new org.hl7.fhir.r4.model.Parameters();
        for (IBaseResource draft : drafts) {
            data.addEntry().setResource((org.hl7.fhir.r4.model.Resource) draft);
            ApplyClient.listParameter(cql.addParameter()
                    .setName("Hook Order Ids")
                    .setValue(new org.hl7.fhir.r4.model.StringType(
                            draft.fhirType() + "/" + draft.getIdElement().getIdPart())));
        }
        parameters.addParameter().setName("data").setResource(data);
        parameters.addParameter().setName("parameters").setResource(cql);
        return BenchData.FHIR.newJsonParser().encodeResourceToString(parameters);
    }

    private static Http.Response applyOnce(String url, String body, String token) {
        Http.Response response = Http.send(
                "POST",
                url,
                body,
                Map.of(
                        "Content-Type",
                        "application/fhir+json",
                        "Accept",
                        "application/fhir+json",
                        "Authorization",
                        "Bearer " + token));
        if (response.status() != 200) {
            throw new IllegalStateException("$apply answered " + response.status() + ": " + response.body());
        }
        return response;
    }

    private static String template(ObjectNode request) {
        request.put("hookInstance", PLACEHOLDER_INSTANCE);
        return request.toString();
    }

    private static LoadGenerator.Result find(List<LoadGenerator.Result> http, String name, int concurrency) {
        return http.stream()
                .filter(h -> h.name().equals(name) && h.concurrency() == concurrency)
                .findFirst()
                .orElse(null);
    }

    private static String fresh(String template) {
        return template.replace(PLACEHOLDER_INSTANCE, UUID.randomUUID().toString());
    }

    // ---- report ----

    private void environment() throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                .filter(l -> l.startsWith("model name"))
                .findFirst()
                .map(l -> l.substring(l.indexOf(':') + 1).trim())
                .orElse("unknown");
        long memKb = Files.readAllLines(Path.of("/proc/meminfo")).stream()
                .filter(l -> l.startsWith("MemTotal"))
                .map(l -> Long.parseLong(l.replaceAll("\\D", "")))
                .findFirst()
                .orElse(0L);
        report.append("## Machine\n\n| what | value |\n|---|---|\n")
                .append("| date | ")
                .append(ZonedDateTime.now())
                .append(" |\n")
                .append("| CPU | ")
                .append(cpu)
                .append(" |\n")
                .append("| cores | ")
                .append(Runtime.getRuntime().availableProcessors())
                .append(" |\n")
                .append("| memory | ")
                .append(memKb / 1024 / 1024)
                .append(" GiB |\n")
                .append("| Java | ")
                .append(System.getProperty("java.vm.name"))
                .append(' ')
                .append(System.getProperty("java.version"))
                .append(" |\n")
                .append(
                        "| server JVM | -Xms1g -Xmx1g, embedded H2 file database, CDS client JWT (RS384) verified and its jti recorded on every call |\n\n");
    }

    private void write(
            double ready,
            Double started,
            Double warm,
            double first,
            double heapAfterStart,
            double heapPeak,
            List<LoadGenerator.Result> http,
            Map<String, double[]> jmh,
            List<double[]> scale,
            double translationsBefore,
            double translationsAfter,
            long tokensSignedDuringPhases)
            throws IOException {
        StringBuilder r = report;
        r.append("## Start-up and memory\n\n| what | value |\n|---|---|\n")
                .append(fmt("| launch to readiness UP | %.1f s |\n", ready))
                .append(started == null ? "" : fmt("| Spring context started (log) | %.1f s |\n", started))
                .append(warm == null ? "" : fmt("| warm-up before ready (90 hook calls) | %.0f ms |\n", warm))
                .append(fmt("| first order-sign call after ready (prefetch) | %.1f ms |\n", first))
                .append(fmt("| heap after start (after a full GC) | %.0f MB |\n", heapAfterStart))
                .append(fmt("| heap in use, peak under concurrency 32 | %.0f MB |\n", heapPeak))
                .append(fmt(
                        "| CQL translations during the whole run (metric cql_translations_total) | %.0f → %.0f |\n\n",
                        translationsBefore, translationsAfter));

        r.append("## Hook latency over HTTP on loopback (closed loop, ")
                .append(warmUp.getSeconds())
                .append(" s warm-up, ")
                .append(measure.getSeconds())
                .append(" s measured)\n\n")
                .append("Before the first phase: ")
                .append(jitWarmUp.getSeconds())
                .append(
                        " s of mixed calls at concurrency 8 (local store, patient-view, order-sign), so the JIT has settled.\n\n")
                .append(
                        "Server CPU per call: the server process's CPU time (all threads, GC and JIT included) over the measured window, divided by the calls answered in it; it depends far less on other load than the latencies do.\n\n")
                .append(
                        "| call | concurrency | calls | calls/s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU ms/call |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (LoadGenerator.Result h : http) {
            r.append(fmt(
                    "| %s | %d | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %d | %.2f |\n",
                    h.name(),
                    h.concurrency(),
                    h.requests(),
                    h.throughput(),
                    h.millis(50),
                    h.millis(90),
                    h.millis(99),
                    h.maxMillis(),
                    h.errors(),
                    h.serverCpuMillisPerCall()));
        }
        r.append("\n### The same phases corrected for coordinated omission\n\n")
                .append(
                        "A closed-loop thread waiting for a slow answer does not send the calls it would have sent meanwhile, so the table above\n")
                .append(
                        "under-counts slow answers. HdrHistogram adds the missed calls back (`copyCorrectedForCoordinatedOmission`), the expected\n")
                .append("interval between one thread's calls being the phase's median latency.\n\n")
                .append(
                        "| call | concurrency | expected interval ms | corrected p50 ms | corrected p90 ms | corrected p99 ms | corrected p99.9 ms | max ms |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (LoadGenerator.Result h : http) {
            r.append(fmt(
                    "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
                    h.name(),
                    h.concurrency(),
                    h.expectedIntervalNanos() / 1e6,
                    h.correctedMillis(50),
                    h.correctedMillis(90),
                    h.correctedMillis(99),
                    h.correctedMillis(99.9),
                    h.maxMillis()));
        }
        if (!openLoop.isEmpty()) {
            r.append("\n### Open loop at a fixed rate (latency from the intended send time)\n\n")
                    .append(
                            "Calls are due at a fixed rate whatever the server does (up to 64 in flight, one connection each); each latency runs\n")
                    .append(
                            "from when the call was due to its answer, so time spent queued behind a slow call counts. Late: calls that went out\n")
                    .append("more than 1 ms after they were due.\n\n")
                    .append(
                            "| call | rate calls/s | calls | calls/s answered | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | late | errors |\n")
                    .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (LoadGenerator.OpenLoopResult o : openLoop) {
                r.append(fmt(
                        "| %s | %.0f | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %d |\n",
                        o.name(),
                        o.targetRate(),
                        o.requests(),
                        o.throughput(),
                        o.millis(50),
                        o.millis(90),
                        o.millis(99),
                        o.millis(99.9),
                        o.maxMillis(),
                        o.late(),
                        o.errors()));
            }
            results.put(
                    "open_loop",
                    openLoop.stream()
                            .map(o -> Map.of(
                                    "name", o.name(),
                                    "rate", o.targetRate(),
                                    "throughput", o.throughput(),
                                    "p50", o.millis(50),
                                    "p90", o.millis(90),
                                    "p99", o.millis(99),
                                    "max", o.maxMillis(),
                                    "late", o.late(),
                                    "errors", o.errors()))
                            .toList());
        }
        LoadGenerator.Result signLocal1 = find(http, "order-sign, no prefetch (local store)", 1);
        LoadGenerator.Result apply1 = find(http, APPLY_PHASE, 1);
        LoadGenerator.Result signLocal8 = find(http, "order-sign, no prefetch (local store)", 8);
        LoadGenerator.Result apply8 = find(http, APPLY_PHASE, 8);
        if (apply1 != null && apply1.requests() == 0) {
            r.append(
                    "\n$apply over HTTP: no call answered within the measured window at c=1 (see the errors column)\n");
        } else if (signLocal1 != null && apply1 != null && signLocal8 != null && apply8 != null) {
            r.append(fmt(
                    "\n$apply over HTTP vs the order-sign hook, same patient and store, drafts sent to both: p50 %.1f vs %.1f ms at c=1 (%.1f×), %.1f vs %.1f ms at c=8 (%.1f×)\n",
                    apply1.millis(50),
                    signLocal1.millis(50),
                    apply1.millis(50) / signLocal1.millis(50),
                    apply8.millis(50),
                    signLocal8.millis(50),
                    apply8.millis(50) / signLocal8.millis(50)));
        }
        if (!storeReads.isEmpty()) {
            r.append(
                    "\nReads of the record (metrics cds_local_store_reads_total, cds_clinical_reasoning_searches_total; each phase with its warm-up): ");
            storeReads.forEach(
                    (phase, reads) -> r.append(phase).append(": ").append(reads).append("; "));
            r.append("\n");
        }
        r.append(fmt(
                "\nJWTs signed by the load generator during measured phases (pool ran dry): %d\n\n",
                tokensSignedDuringPhases));
        r.append("Cards each call answers (rule ids, checked before measuring): ");
        phaseAnswers.forEach(
                (phase, ids) -> r.append(phase).append(" ").append(ids).append("; "));
        r.append("\n\n");

        if (!jmh.isEmpty()) {
            r.append(
                            "## Engine floor and $apply baseline (JMH, sample mode, same data as order-sign with prefetch)\n\n")
                    .append(
                            "| benchmark | p50 ms | p90 ms | p99 ms | mean ms | samples | allocated per call (JMH GC profiler) |\n|---|---:|---:|---:|---:|---:|---:|\n");
            jmh.forEach((name, v) -> r.append(fmt(
                    "| %s | %.2f | %.2f | %.2f | %.2f | %.0f | %.2f MB |\n",
                    name, v[0], v[1], v[2], v[3], v[4], v[5] / 1e6)));
            double floor = jmh.get("engineFloor")[0];
            double apply = jmh.get("applyBaseline")[0];
            LoadGenerator.Result sign1 = find(http, "order-sign, prefetch", 1);
            LoadGenerator.Result sign8 = find(http, "order-sign, prefetch", 8);
            r.append("\n### Ratios\n\n| ratio | value |\n|---|---:|\n");
            if (sign1 != null && sign8 != null) {
                r.append(fmt(
                                "| order-sign p50 over HTTP (c=1) / engine floor p50 | %.2f× |\n",
                                sign1.millis(50) / floor))
                        .append(fmt(
                                "| order-sign p50 over HTTP (c=8) / engine floor p50 | %.2f× |\n",
                                sign8.millis(50) / floor))
                        .append(fmt(
                                "| $apply p50 / order-sign p50 over HTTP (c=1) | %.1f× |\n", apply / sign1.millis(50)));
            }
            r.append(fmt("| $apply p50 / engine floor p50 | %.1f× |\n\n", apply / floor));
            results.put("jmh", jmh);
        }

        r.append("## Scale: order-sign latency as the record grows (concurrency 1)\n\n")
                .append(
                        "| Observations | prefetch p50 ms | prefetch p99 ms | calls (errors) | local store p50 ms | local store p99 ms | calls (errors) |\n")
                .append("|---:|---:|---:|---:|---:|---:|---:|\n");
        for (double[] row : scale) {
            r.append(fmt(
                    "| %.0f | %.1f | %.1f | %.0f (%.0f) | %.1f | %.1f | %.0f (%.0f) |\n",
                    row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8]));
        }
        if (!scaleAnswers.isEmpty()) {
            r.append("\nAnswers (rule ids, the same with prefetch and from the local store): ");
            scaleAnswers.forEach(
                    (size, ids) -> r.append(size).append(" ").append(ids).append("; "));
            r.append("\n");
        }
        r.append("\n![latency vs size](latency-vs-size.svg)\n");
        Files.writeString(out.resolve("report.md"), "# Benchmark run\n\n" + r);
        if (!scale.isEmpty()) {
            Files.writeString(out.resolve("latency-vs-size.svg"), Svg.latencyVsSize(scale));
        }
        results.put(
                "http",
                http.stream()
                        .map(h -> Map.of(
                                "name",
                                h.name(),
                                "concurrency",
                                h.concurrency(),
                                "throughput",
                                h.throughput(),
                                "p50",
                                h.millis(50),
                                "p90",
                                h.millis(90),
                                "p99",
                                h.millis(99),
                                "max",
                                h.maxMillis(),
                                "p99_corrected_for_coordinated_omission",
                                h.correctedMillis(99),
                                "errors",
                                h.errors(),
                                "server_cpu_ms_per_call",
                                h.serverCpuMillisPerCall()))
                        .toList());
        results.put("scale", scale);
        results.put("ready_s", ready);
        results.put("first_call_ms", first);
        Files.writeString(
                out.resolve("results.json"),
                BenchData.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(results));
        System.out.println("\nWrote " + out.resolve("report.md"));
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
