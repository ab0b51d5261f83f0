package org.crlm.cds.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The server under test, as its own JVM started from the fat jar, as operators run it. */
public final class ServerProcess implements AutoCloseable {

    private final Process process;
    private final Path log;
    private final String base;
    private final long startedNanos;
    private final HttpClient http = HttpClient.newHttpClient();

    public ServerProcess(Path jar, int port, Path workDir, List<String> jvmOptions, List<String> appArgs)
            throws IOException {
        this(jar, port, workDir, jvmOptions, appArgs, Path.of("."));
    }

    /** @param directory where the server runs: the checkout whose cql/ and fhir-resources/ it loads */
    public ServerProcess(
            Path jar, int port, Path workDir, List<String> jvmOptions, List<String> appArgs, Path directory)
            throws IOException {
        Files.createDirectories(workDir);
        this.log = workDir.resolve("server.log");
        this.base = "http://127.0.0.1:" + port;
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar.toAbsolutePath().toString());
        command.add("--server.port=" + port);
        command.addAll(appArgs);
        startedNanos = System.nanoTime();
        process = new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    public String base() {
        return base;
    }

    /** CPU time of the server process so far (all threads), in nanoseconds; -1 when the OS does not tell. */
    public long cpuNanos() {
        return process.toHandle()
                .info()
                .totalCpuDuration()
                .map(Duration::toNanos)
                .orElse(-1L);
    }

    public long pid() {
        return process.pid();
    }

    /** Seconds from launch to readiness UP. */
    public double awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("The server exited; see " + log);
            }
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(base + "/actuator/health/readiness"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return (System.nanoTime() - startedNanos) / 1e9;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("Not ready after " + timeout + "; see " + log);
    }

    /** A number the server logged, e.g. "Started CrlmCdsApplication in 41.2 seconds". */
    public Double logged(String regex) throws IOException {
        Matcher m = Pattern.compile(regex).matcher(Files.readString(log));
        return m.find() ? Double.parseDouble(m.group(1)) : null;
    }

    private static String metricsToken() {
        return org.crlm.cds.support.TestKeys.get().fhirToken(org.crlm.cds.support.TestKeys.METRICS_SCOPE);
    }

    public double metric(String name, String tag) throws Exception {
        String url = base + "/actuator/metrics/" + name + (tag == null ? "" : "?tag=" + tag);
        String body = http.send(
                        HttpRequest.newBuilder(URI.create(url))
                                .header("Authorization", "Bearer " + metricsToken())
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = Pattern.compile("\"value\"\\s*:\\s*([0-9.eE+\\-]+)").matcher(body);
        if (!m.find()) {
            throw new IllegalStateException("No metric " + name + ": " + body);
        }
        return Double.parseDouble(m.group(1));
    }

    public double prometheus(String series) throws Exception {
        String body = http.send(
                        HttpRequest.newBuilder(URI.create(base + "/actuator/prometheus"))
                                .header("Authorization", "Bearer " + metricsToken())
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + "(\\{[^}]*\\})? ([0-9.eE+\\-]+)$")
                .matcher(body);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(2));
        }
        return total;
    }

    /** Heap in use just after a full GC (jcmd GC.run), in MB. */
    public double heapAfterGcMb() throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.run")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start()
                .waitFor();
        Thread.sleep(500);
        return metric("jvm.memory.used", "area:heap") / (1024 * 1024);
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
