package org.crlm.cds.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.util.FileSystemUtils;

/**
 * The container image Jib wrote to target/crlm-ablation-cds-image.tar (mvn package), opened
 * the way a container runtime opens it: its OCI index, manifest and configuration are read,
 * its layers unpacked in order into a root filesystem, and its entrypoint run there with the
 * image's user, working directory and environment (chroot into new mount and PID namespaces,
 * with /proc and /dev mounted as a runtime does; needs root, as CI has).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContainerImageIT {

    private static final Path TARBALL = Path.of("target", "crlm-ablation-cds-image.tar");
    private static final Path WORK = Path.of("target", "image-it").toAbsolutePath();
    private static final String MAIN_CLASS = "org.crlm.cds.CrlmCdsApplication";
    private static final String READINESS = "/actuator/health/readiness";
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonNode config;
    private Path rootfs;

    @BeforeAll
    void unpackTheImage() throws IOException {
        assertThat(TARBALL)
                .as("the image tarball; mvn package builds it (not with -Djib.skip)")
                .isRegularFile();
        FileSystemUtils.deleteRecursively(WORK);
        Path layout = Files.createDirectories(WORK.resolve("oci"));
        run(List.of("tar", "-xf", TARBALL.toAbsolutePath().toString(), "-C", layout.toString()), Duration.ofMinutes(2));

        JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
        assertThat(index.path("manifests")).as("one image in the tarball").hasSize(1);
        JsonNode manifest = JSON.readTree(
                blob(layout, index.path("manifests").get(0).path("digest").asText())
                        .toFile());
        assertThat(manifest.path("mediaType").asText()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
        config = JSON.readTree(
                blob(layout, manifest.path("config").path("digest").asText()).toFile());

        rootfs = Files.createDirectories(WORK.resolve("rootfs"));
        for (JsonNode layer : manifest.path("layers")) {
            run(
                    List.of(
                            "tar",
                            "--warning=no-unknown-keyword",
                            "-xzf",
                            blob(layout, layer.path("digest").asText()).toString(),
                            "-C",
                            rootfs.toString()),
                    Duration.ofMinutes(2));
        }
        // Mount points a runtime creates before it starts the entrypoint.
        Files.createDirectories(rootfs.resolve("proc"));
        Files.createDirectories(rootfs.resolve("dev"));
    }

    @Test
    void theImageRunsTheServerAsUser10001OnPort8080WithBoundedHeap() {
        JsonNode container = config.path("config");
        assertThat(config.path("os").asText()).isEqualTo("linux");
        assertThat(config.path("architecture").asText()).isEqualTo("amd64");
        assertThat(container.path("User").asText()).isEqualTo("10001:10001");
        assertThat(container.path("WorkingDir").asText()).isEqualTo("/app");
        assertThat(strings(container.path("Entrypoint")))
                .containsExactly("/opt/java/bin/java", "-cp", "@/app/jib-classpath-file", MAIN_CLASS);
        assertThat(container.path("Cmd").isMissingNode()
                        || container.path("Cmd").isNull())
                .as("no Cmd: arguments go to the app")
                .isTrue();
        assertThat(fieldNames(container.path("ExposedPorts"))).containsExactly("8080/tcp");
        Map<String, String> env = env();
        assertThat(env.get("JAVA_TOOL_OPTIONS"))
                .contains("-XX:MaxRAMPercentage=70")
                .contains("-XX:+ExitOnOutOfMemoryError");
        assertThat(env)
                .containsEntry("SPRING_PROFILES_ACTIVE", "postgres")
                .containsEntry("CRLM_KNOWLEDGE_LOADDEMODATA", "false")
                .containsEntry("CRLM_KNOWLEDGE_CQLDIR", "/app/cql")
                .containsEntry("CRLM_KNOWLEDGE_RESOURCESDIR", "/app/fhir-resources");
        // OCI images carry no HEALTHCHECK; the probe path is documented on the image.
        assertThat(container
                        .path("Labels")
                        .path("org.crlm.cds.health.readiness")
                        .asText())
                .isEqualTo(READINESS);
        assertThat(container.path("Labels").path("org.crlm.cds.health.liveness").asText())
                .isEqualTo("/actuator/health/liveness");
    }

    @Test
    void theImageKeepsTheDockerfilesRuntimeContract() throws IOException {
        String dockerfile = Files.readString(Path.of("docker", "Dockerfile"));
        JsonNode container = config.path("config");
        assertThat(dockerfile)
                .contains("USER " + container.path("User").asText())
                .contains("EXPOSE 8080")
                .contains("WORKDIR " + container.path("WorkingDir").asText())
                .contains("127.0.0.1:8080" + READINESS);
        env().forEach((name, value) -> {
            if (!name.equals("PATH") && !name.equals("JAVA_HOME")) {
                assertThat(dockerfile)
                        .as("docker/Dockerfile sets " + name + " as the image does")
                        .containsAnyOf(
                                name + "=" + value + " ", name + "=\"" + value + "\"", name + "=" + value + "\n");
            }
        });
    }

    @Test
    void theFilesystemHoldsTheAppTheKnowledgeAndAJreOwnedByRoot() throws IOException {
        assertThat(Files.getPosixFilePermissions(rootfs.resolve("opt/java/bin/java")))
                .contains(PosixFilePermission.OTHERS_EXECUTE);
        assertThat(rootfs.resolve("app/jib-classpath-file"))
                .content()
                .startsWith("/app/resources:/app/classes:/app/libs/");
        assertThat(rootfs.resolve("app/cql/CRLMAblationRules.cql")).isRegularFile();
        assertThat(rootfs.resolve("app/fhir-resources/rules")).isDirectory();
        assertThat(rootfs.resolve("etc/passwd")).content().contains("crlm:x:10001:10001:");
        assertThat(Files.getPosixFilePermissions(rootfs.resolve("tmp")))
                .as("/tmp writable by the app user")
                .contains(PosixFilePermission.OTHERS_WRITE);
        assertThat(Files.getOwner(rootfs.resolve("app/cql")).getName())
                .as("knowledge is read-only for the app user")
                .isEqualTo("root");
        assertThat(Files.readString(rootfs.resolve("app/jib-classpath-file")))
                .as("dead weight excluded from the build")
                .doesNotContain("sqlite-jdbc", "plantuml", "elasticsearch-java");
    }

    @Test
    void theImagesJavaStartsAsTheImageUser() {
        Result result = inImage(
                List.of("/opt/java/bin/java", "-XshowSettings:properties", "-version"),
                Map.of(),
                Duration.ofMinutes(1));
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output())
                .contains("java.home = /opt/java")
                .contains("user.name = crlm")
                .contains("user.dir = /app")
                .contains("Picked up JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=70")
                .containsPattern("version \"17\\.")
                .as("the JRE's class-data-sharing archive is used")
                .contains("mixed mode, sharing");
    }

    @Test
    void theRuleCheckPassesInsideTheImage() {
        Result result = inImage(
                List.of(
                        "/opt/java/bin/java",
                        "-cp",
                        "@/app/jib-classpath-file",
                        "org.crlm.cds.authoring.RuleCheck",
                        "--cql",
                        "/app/cql",
                        "--resources",
                        "/app/fhir-resources"),
                Map.of(),
                Duration.ofMinutes(5));
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("OK: every library translates").containsPattern("\\d+ passed, 0 failed");
    }

    @Test
    void theServerStartsInsideTheImageStoresARecordAndAnswersAHook() throws Exception {
        int port = freePort();
        String base = "http://127.0.0.1:" + port;
        List<String> command = new ArrayList<>(strings(config.path("config").path("Entrypoint")));
        command.addAll(List.of("--server.port=" + port, "--crlm.data-dir=/tmp/data"));
        // The demo profile (embedded H2, demo patients, no tokens) instead of the image's postgres.
        Map<String, String> demo = Map.of("SPRING_PROFILES_ACTIVE", "demo", "CRLM_KNOWLEDGE_LOADDEMODATA", "true");
        Path log = WORK.resolve("server.log");
        Process server = start(command, demo, log);
        try {
            await("readiness of the server in the image")
                    .atMost(Duration.ofMinutes(8))
                    .pollInterval(Duration.ofSeconds(2))
                    .until(() -> {
                        assertThat(server.isAlive())
                                .as("server exited: " + tail(log))
                                .isTrue();
                        HttpResponse<String> r = get(base + READINESS);
                        return r != null && r.statusCode() == 200 && r.body().contains("UP");
                    });

            HttpResponse<String> written = send(
                    "PUT",
                    base + "/fhir/Patient/image-check",
                    "application/fhir+json",
                    "{\"resourceType\":\"Patient\",\"id\":\"image-check\",\"name\":[{\"family\":\"Imagecheck\"}]}");
            assertThat(written.statusCode()).as(written.body()).isIn(200, 201);

            HttpResponse<String> hook = send(
                    "POST",
                    base + "/cds-services/crlm-ablation-order-sign",
                    "application/json",
                    Files.readString(Path.of("src", "docs", "order-sign-crlm-demo-11.json")));
            assertThat(hook.statusCode()).as(hook.body()).isEqualTo(200);
            List<String> rules = new ArrayList<>();
            JSON.readTree(hook.body())
                    .path("cards")
                    .forEach(card -> rules.add(
                            card.path("source").path("topic").path("code").asText()));
            assertThat(rules)
                    .as("the README's order-sign example, evaluated by the CQL in the image")
                    .contains("R1");
        } finally {
            stop(server);
        }
        assertThat(server.exitValue())
                .as("graceful stop on SIGTERM: " + tail(log))
                .isIn(0, 143);
    }

    // ------------------------------------------------------------------------------------------

    private record Result(int exitCode, String output) {}

    /** The command inside the image as its user, in its working directory, with its environment (plus overrides). */
    private List<String> inImageCommand(List<String> command, Map<String, String> overrides) {
        assertThat(System.getProperty("user.name"))
                .as("unpacking and chroot need root (CI runs as root)")
                .isEqualTo("root");
        String[] user = config.path("config").path("User").asText().split(":");
        Map<String, String> env = new LinkedHashMap<>(env());
        env.putAll(overrides);
        List<String> full = new ArrayList<>(List.of(
                "unshare",
                "--fork",
                "--pid",
                "--mount",
                "--kill-child=SIGTERM",
                "sh",
                "-c",
                "mount -t proc proc \"$0/proc\" && mount --rbind /dev \"$0/dev\" && exec \"$@\"",
                rootfs.toString(),
                "/usr/bin/env",
                "-i"));
        env.forEach((name, value) -> full.add(name + "=" + value));
        full.addAll(List.of(
                which("unshare"),
                "--root=" + rootfs,
                "--wd=" + config.path("config").path("WorkingDir").asText(),
                "--setgid=" + user[1],
                "--setuid=" + user[0]));
        full.addAll(command);
        return full;
    }

    private Result inImage(List<String> command, Map<String, String> overrides, Duration timeout) {
        Path output = WORK.resolve("run-" + System.nanoTime() + ".log");
        try {
            Process process = start(command, overrides, output);
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                stop(process);
                throw new AssertionError("timed out: " + command + "\n" + tail(output));
            }
            return new Result(process.exitValue(), Files.readString(output));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private Process start(List<String> command, Map<String, String> overrides, Path output) throws IOException {
        return new ProcessBuilder(inImageCommand(command, overrides))
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
    }

    /**
     * SIGTERM to the entrypoint process itself (PID 1 in the image's PID namespace), as a
     * runtime's stop does; the namespace ends with it.
     */
    private static void stop(Process process) throws InterruptedException {
        process.toHandle().descendants().forEach(ProcessHandle::destroy);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            throw new AssertionError("the process in the image did not stop within 60 s of SIGTERM");
        }
    }

    private Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String entry : strings(config.path("config").path("Env"))) {
            int eq = entry.indexOf('=');
            env.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
        return env;
    }

    private static Path blob(Path layout, String digest) {
        assertThat(digest).startsWith("sha256:");
        return layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }

    private static List<String> fieldNames(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String which(String program) {
        for (String dir : System.getenv("PATH").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new AssertionError(program + " not on PATH (util-linux)");
    }

    private static void run(List<String> command, Duration timeout) {
        Path output = WORK.resolve("cmd-" + System.nanoTime() + ".log");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            assertThat(process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
                    .as(String.join(" ", command))
                    .isTrue();
            assertThat(process.exitValue())
                    .as(String.join(" ", command) + "\n" + Files.readString(output))
                    .isZero();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static HttpResponse<String> get(String url) {
        try {
            return HTTP.send(
                    HttpRequest.newBuilder(URI.create(url))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null; // not listening yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static HttpResponse<String> send(String method, String url, String contentType, String body)
            throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(60))
                        .header("Content-Type", contentType)
                        .method(method, HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
