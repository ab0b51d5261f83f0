package org.crlm.cds.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.crlm.cds.bench.ServerProcess;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.PackagedServerArguments;
import org.crlm.cds.support.PrivatePostgres;
import org.crlm.cds.support.TestKeys;
import org.junit.jupiter.api.Test;

/**
 * The database goes away for about ten seconds while EHRs keep calling: the packaged server, on a
 * PostgreSQL cluster of this test's own, is under a steady load of patient-view and order-sign
 * calls when the cluster is stopped, and started again ten seconds later. Every call is answered
 * (a client that waits past its timeout counts as a hang); a call that cannot be audited is a 503
 * OperationOutcome, never a 200 without its audit row; the service recovers by itself; and every
 * call answered 200 has its audit row and an issued-card row per card (rows missing = 0). The
 * figures (calls, failures, recovery time, rows missing) go to target/database-outage.txt.
 */
class DatabaseOutageIT {

    private static final Duration OUTAGE = Duration.ofSeconds(10);
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(20);
    private static final int CLIENTS = 3;

    private record Call(
            String service,
            String hookInstance,
            long startNanos,
            long endNanos,
            int status,
            String body,
            boolean timedOut) {}

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void hookCallsFailFastWhileTheDatabaseIsDownRecoverByThemselvesAndEveryAnsweredCallIsAudited() throws Exception {
        Path jar = Path.of("target", "crlm-ablation-cds.jar");
        assertThat(jar)
                .as("the packaged app (mvn package runs before the integration tests)")
                .exists();
        TestKeys keys = TestKeys.get();
        int port = TestKeys.freePort();
        Path work = Files.createTempDirectory("crlm-db-outage");
        String orderSign = Files.readString(Path.of("src", "docs", "order-sign-crlm-demo-11.json"));
        try (PrivatePostgres db = new PrivatePostgres()) {
            List<String> app = PackagedServerArguments.onPostgres(db.url(), db.user, db.password, work, port, keys);
            ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
            AtomicBoolean running = new AtomicBoolean(true);
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            long stoppedAt;
            long startingAt;
            long restartedAt;
            long recoveredAt;
            try (ServerProcess server = new ServerProcess(jar, port, work, List.of("-Xmx768m"), app)) {
                // Generous: a loaded CI machine can take minutes to start the server.
                server.awaitReady(Duration.ofMinutes(15));
                String base = server.base();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    clients.submit(() -> {
                        int i = 0;
                        while (running.get()) {
                            boolean sign = (client + i++) % 2 == 0;
                            calls.add(
                                    sign
                                            ? call(base, keys, "crlm-ablation-order-sign", orderSign)
                                            : call(base, keys, "crlm-ablation-patient-view", null));
                        }
                        return null;
                    });
                }
                await().atMost(Duration.ofMinutes(2)).until(() -> count(calls, 200, Long.MIN_VALUE) >= 20);

                db.stop();
                stoppedAt = System.nanoTime();
                // The outage lasts OUTAGE; calls meanwhile must be answered 503.
                await().atMost(OUTAGE.plusMinutes(1))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() ->
                                System.nanoTime() - stoppedAt >= OUTAGE.toNanos() && count(calls, 503, stoppedAt) > 0);
                // PostgreSQL accepts connections a moment before pg_ctl's wait returns: a call
                // answered in between was served by the database that is back, so "down" ends here.
                startingAt = System.nanoTime();
                db.start();
                restartedAt = System.nanoTime();
                await().atMost(Duration.ofMinutes(2)).until(() -> firstOk(calls, restartedAt) > 0);
                recoveredAt = firstOk(calls, restartedAt);
                // Keep the load on after recovery, then let every client finish its call.
                await().atMost(Duration.ofMinutes(2)).until(() -> count(calls, 200, recoveredAt) >= 20);
                running.set(false);
                clients.shutdown();
                assertThat(clients.awaitTermination(CLIENT_TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS))
                        .isTrue();
            } finally {
                running.set(false);
                clients.shutdownNow();
            }

            List<Call> all = new ArrayList<>(calls);
            List<Call> hung = all.stream().filter(Call::timedOut).toList();
            List<Call> ok = all.stream().filter(c -> c.status() == 200).toList();
            List<Call> unavailable = all.stream().filter(c -> c.status() == 503).toList();
            List<Call> other = all.stream()
                    .filter(c -> !c.timedOut() && c.status() != 200 && c.status() != 503)
                    .toList();
            long duringOutage = all.stream()
                    .filter(c -> c.startNanos() >= stoppedAt && c.endNanos() <= startingAt)
                    .count();
            long okDuringOutage = all.stream()
                    .filter(c -> c.startNanos() >= stoppedAt && c.endNanos() <= startingAt && c.status() == 200)
                    .count();

            // Rows of every call answered 200, read from the database once it is back.
            int rowsMissing = 0;
            int cardsChecked = 0;
            try (Connection c = DriverManager.getConnection(db.url(), db.user, db.password)) {
                for (Call call : ok) {
                    if (!auditRowExists(c, call.hookInstance())) {
                        rowsMissing++;
                    }
                    for (JsonNode card : Http.JSON.readTree(call.body()).path("cards")) {
                        cardsChecked++;
                        if (!issuedCardExists(c, card.path("uuid").asText())) {
                            rowsMissing++;
                        }
                    }
                }
            }

            long max503Millis = unavailable.stream()
                    .mapToLong(c -> (c.endNanos() - c.startNanos()) / 1_000_000)
                    .max()
                    .orElse(0);
            String figures = String.format(
                    Locale.ROOT,
                    "database outage: %d clients, PostgreSQL stopped %.1f s%n"
                            + "calls %d: 200 %d, 503 %d, other %d, client timeouts (hangs) %d%n"
                            + "calls started and answered during the outage %d (200 among them %d)%n"
                            + "slowest 503 answer %d ms%n"
                            + "recovery: first 200 %.2f s after PostgreSQL was started again%n"
                            + "audit/issued-card rows checked %d calls + %d cards, rows missing %d%n",
                    CLIENTS,
                    (restartedAt - stoppedAt) / 1e9,
                    all.size(),
                    ok.size(),
                    unavailable.size(),
                    other.size(),
                    hung.size(),
                    duringOutage,
                    okDuringOutage,
                    max503Millis,
                    (recoveredAt - restartedAt) / 1e9,
                    ok.size(),
                    cardsChecked,
                    rowsMissing);
            System.out.print(figures);
            Files.writeString(Path.of("target", "database-outage.txt"), figures);

            assertThat(hung)
                    .as("calls that got no answer within " + CLIENT_TIMEOUT)
                    .isEmpty();
            assertThat(other).as("answers other than 200 and 503").isEmpty();
            assertThat(unavailable)
                    .as("calls answered 503 while the database was down")
                    .isNotEmpty();
            assertThat(okDuringOutage).as("200s while the database was down").isZero();
            for (Call call : unavailable) {
                JsonNode outcome = Http.JSON.readTree(call.body());
                assertThat(outcome.path("resourceType").asText())
                        .as(call.body())
                        .isEqualTo("OperationOutcome");
                assertThat(outcome.path("issue").get(0).path("severity").asText())
                        .isIn("error", "fatal");
            }
            assertThat(rowsMissing)
                    .as("audit and issued-card rows missing for calls answered 200")
                    .isZero();
            assertThat(cardsChecked).isPositive();
        }
        // Kept when the test fails: its server.log says why.
        deleteTree(work);
    }

    private Call call(String base, TestKeys keys, String service, String orderSignTemplate) {
        String instance = UUID.randomUUID().toString();
        String body = orderSignTemplate != null
                ? orderSignTemplate.replaceFirst(
                        "\"hookInstance\"\\s*:\\s*\"[^\"]*\"", "\"hookInstance\": \"" + instance + "\"")
                : """
                  {"hook": "patient-view", "hookInstance": "%s",
                   "context": {"userId": "Practitioner/test-surgeon", "patientId": "crlm-demo-01"}}"""
                        .formatted(instance);
        String url = base + "/cds-services/" + service;
        HttpRequest request = HttpRequest.newBuilder(URI.create(url))
                .timeout(CLIENT_TIMEOUT)
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + keys.cdsJwt(url))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        long start = System.nanoTime();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Call(service, instance, start, System.nanoTime(), response.statusCode(), response.body(), false);
        } catch (HttpTimeoutException e) {
            return new Call(service, instance, start, System.nanoTime(), -1, null, true);
        } catch (IOException e) {
            return new Call(service, instance, start, System.nanoTime(), -2, e.toString(), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Call(service, instance, start, System.nanoTime(), -3, null, false);
        }
    }

    private static long count(ConcurrentLinkedQueue<Call> calls, int status, long since) {
        return calls.stream()
                .filter(c -> c.status() == status && c.startNanos() >= since)
                .count();
    }

    /** When the first call started after {@code since} was answered 200, or 0. */
    private static long firstOk(ConcurrentLinkedQueue<Call> calls, long since) {
        return calls.stream()
                .filter(c -> c.status() == 200 && c.startNanos() >= since)
                .mapToLong(Call::endNanos)
                .min()
                .orElse(0);
    }

    private static boolean auditRowExists(Connection c, String hookInstance) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(
                "select count(*) from cds_audit_event where hook_instance = ? and http_status = 200")) {
            ps.setString(1, hookInstance);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1) == 1;
            }
        }
    }

    private static boolean issuedCardExists(Connection c, String uuid) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("select count(*) from cds_issued_card where card_uuid = ?")) {
            ps.setString(1, uuid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1) == 1;
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        }
    }
}
