package org.crlm.cds.support;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary directory, its own port), which
 * a test may stop and start without disturbing the shared server other tests use. Uses the
 * server binaries of the machine (CRLM_TEST_PG_BIN, else Debian's /usr/lib/postgresql/N/bin).
 * PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to, and runs as, the
 * {@code postgres} system user. Missing binaries are a test failure, never a skip.
 */
public final class PrivatePostgres implements AutoCloseable {

    public final String user = "crlm";
    public final String password = "crlm";
    public final String database = "crlm_outage";
    public final int port = TestKeys.freePort();

    private final Path bin = binaries();
    private final Path dir;
    private final Path data;
    private final boolean asPostgresUser = "root".equals(System.getProperty("user.name"));

    public PrivatePostgres() throws IOException, InterruptedException {
        dir = Files.createTempDirectory("crlm-private-pg");
        data = dir.resolve("data");
        try {
            create();
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void create() throws IOException, InterruptedException {
        Files.createDirectories(data);
        if (asPostgresUser) {
            // The postgres user must reach and own its data directory.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            UserPrincipal postgres =
                    dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            Files.setOwner(data, postgres);
        }
        Path passwordFile = dir.resolve("pwfile");
        Files.writeString(passwordFile, password + "\n", StandardCharsets.UTF_8);
        if (asPostgresUser) {
            Files.setOwner(passwordFile, Files.getOwner(data));
        }
        run(List.of(
                bin.resolve("initdb").toString(),
                "-D",
                data.toString(),
                "-U",
                user,
                "--pwfile=" + passwordFile,
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync"));
        Files.delete(passwordFile);
        start();
        try (Connection c = DriverManager.getConnection(url("postgres"), user, password);
                Statement s = c.createStatement()) {
            s.execute("create database " + database);
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot create the database of the private cluster", e);
        }
    }

    public String url() {
        return url(database);
    }

    private String url(String db) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + db;
    }

    /** Starts the cluster and waits until it accepts connections. */
    public void start() throws IOException, InterruptedException {
        run(List.of(
                bin.resolve("pg_ctl").toString(),
                "-D",
                data.toString(),
                "-l",
                data.resolve("server.log").toString(),
                "-o",
                "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + data
                        + " -c fsync=off -c max_connections=100",
                "-w",
                "-t",
                "60",
                "start"));
    }

    /** Stops the cluster (fast shutdown: open connections are cut, as when the database goes away). */
    public void stop() throws IOException, InterruptedException {
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "-t", "60", "stop"));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                stop();
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    private void run(List<String> command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>();
        if (asPostgresUser) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        Path out = Files.createTempFile("crlm-pg-cmd", ".log");
        try {
            Process p = new ProcessBuilder(full)
                    .directory(asPostgresUser ? new File("/") : dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", full) + " did not finish");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(
                        String.join(" ", full) + " failed (" + p.exitValue() + "): " + Files.readString(out));
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static Path binaries() {
        String configured = System.getenv("CRLM_TEST_PG_BIN");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                return versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("initdb")))
                        .max(Comparator.comparingInt(b -> Integer.parseInt(
                                b.getParent().getFileName().toString().replaceAll("\\D", "0"))))
                        .orElseThrow(PrivatePostgres::noBinaries);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        throw noBinaries();
    }

    private static IllegalStateException noBinaries() {
        return new IllegalStateException("PostgreSQL server binaries (initdb, pg_ctl) are needed for this test: "
                + "install Debian's postgresql (as .ci/run does) or set CRLM_TEST_PG_BIN");
    }
}
