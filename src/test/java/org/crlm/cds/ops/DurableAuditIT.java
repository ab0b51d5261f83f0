package org.crlm.cds.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.crlm.cds.bench.ServerProcess;
import org.crlm.cds.support.CdsClient;
import org.crlm.cds.support.Http;
import org.crlm.cds.support.PackagedServerArguments;
import org.crlm.cds.support.PostgresTestDatabase;
import org.crlm.cds.support.TestKeys;
import org.junit.jupiter.api.Test;

/**
 * The audit row and the issued cards of a call are in PostgreSQL once its answer has been sent:
 * the packaged server, run as its own process, is killed with SIGKILL (kill -9) right after its
 * last answer, and every answered call still has its audit row and every card its issued-card row.
 */
class DurableAuditIT {

    @Test
    void auditAndIssuedCardRowsSurviveAKillRightAfterTheResponse() throws Exception {
        Path jar = Path.of("target", "crlm-ablation-cds.jar");
        assertThat(jar)
                .as("the packaged app (mvn package runs before the integration tests)")
                .exists();
        TestKeys keys = TestKeys.get();
        int port = TestKeys.freePort();
        Path work = Files.createTempDirectory("crlm-durable-audit");
        try (PostgresTestDatabase db = new PostgresTestDatabase()) {
            List<String> app = PackagedServerArguments.onPostgres(db.url(), db.user, db.password, work, port, keys);
            List<String> instances = new ArrayList<>();
            List<String> cardUuids = new ArrayList<>();
            ServerProcess server = new ServerProcess(jar, port, work, List.of("-Xmx768m"), app);
            try {
                server.awaitReady(Duration.ofMinutes(6));
                CdsClient cds = new CdsClient(server.base(), keys);
                for (int i = 0; i < 12; i++) {
                    String instance = UUID.randomUUID().toString();
                    Http.Response response = cds.call(
                            "crlm-ablation-patient-view",
                            """
                            {"hook": "patient-view", "hookInstance": "%s",
                             "context": {"userId": "Practitioner/test-surgeon", "patientId": "crlm-demo-01"}}"""
                                    .formatted(instance));
                    assertThat(response.status()).as(response.body()).isEqualTo(200);
                    instances.add(instance);
                    for (JsonNode card : response.json().path("cards")) {
                        cardUuids.add(card.path("uuid").asText());
                    }
                }
                // SIGKILL right after the last answer: no shutdown hook, no flush, nothing after the response.
                ProcessHandle handle = ProcessHandle.of(server.pid()).orElseThrow();
                assertThat(handle.destroyForcibly()).isTrue();
                handle.onExit().get(30, TimeUnit.SECONDS);
            } finally {
                server.close();
            }
            assertThat(cardUuids).isNotEmpty();
            try (Connection c = DriverManager.getConnection(db.url(), db.user, db.password)) {
                for (String instance : instances) {
                    try (PreparedStatement ps = c.prepareStatement(
                            "select http_status, rules_fired, resources_read from cds_audit_event where hook_instance = ?")) {
                        ps.setString(1, instance);
                        try (ResultSet rs = ps.executeQuery()) {
                            assertThat(rs.next()).as("audit row of " + instance).isTrue();
                            assertThat(rs.getInt(1)).isEqualTo(200);
                            assertThat(rs.getString(2)).isEqualTo("R1,R2,R8");
                            assertThat(rs.getString(3))
                                    .contains("Patient/crlm-demo-01")
                                    .contains("LOCAL_STORE");
                        }
                    }
                }
                for (String uuid : cardUuids) {
                    try (PreparedStatement ps =
                            c.prepareStatement("select count(*) from cds_issued_card where card_uuid = ?")) {
                        ps.setString(1, uuid);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            assertThat(rs.getInt(1)).as("issued card " + uuid).isEqualTo(1);
                        }
                    }
                }
            }
        }
    }
}
