package org.crlm.cds.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.CdsHooksShape;
import org.crlm.cds.support.Http;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * One INFO line per CDS Hooks call, answered or refused, with the caller's correlation id, the
 * service, the status, the duration, the rule ids of the cards and, for a refusal, the reason:
 * what an integrator matches against when the EHR shows "All clear!" for a 401 or a 412.
 */
class CallLogIT extends AppIntegrationTest {

    private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(CdsCallLog.class);

    @BeforeEach
    void capture() {
        captured.start();
        logger.addAppender(captured);
    }

    @AfterEach
    void release() {
        logger.detachAppender(captured);
    }

    private Http.Response post(String path, String body, String correlationId, String token) {
        String url = base() + path;
        return Http.send(
                "POST",
                url,
                body,
                Map.of(
                        "Content-Type",
                        "application/json",
                        "X-Correlation-Id",
                        correlationId,
                        "Authorization",
                        "Bearer " + (token != null ? token : keys().cdsJwt(url))));
    }

    /** The call's line; it is written once the response has gone out, so it may arrive a moment after it. */
    private String lineFor(String correlationId) {
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(10))
                .until(() -> List.copyOf(captured.list).stream()
                        .anyMatch(e -> e.getFormattedMessage().contains("correlationId=" + correlationId + " ")));
        List<String> lines = List.copyOf(captured.list).stream()
                .filter(e -> e.getFormattedMessage().contains("correlationId=" + correlationId + " "))
                .map(e -> {
                    assertThat(e.getLevel().toString()).isEqualTo("INFO");
                    return e.getFormattedMessage();
                })
                .toList();
        assertThat(lines).as("one line for call " + correlationId).hasSize(1);
        return lines.get(0);
    }

    private static String hook(String patientId) {
        return """
                {"hook": "patient-view", "hookInstance": "%s",
                 "context": {"userId": "Practitioner/log", "patientId": "%s"}}"""
                .formatted(UUID.randomUUID(), patientId);
    }

    @Test
    void anAnsweredHookCallIsOneLineWithItsServiceStatusDurationAndRuleIds() {
        String id = "log-answered-" + UUID.randomUUID();
        Http.Response response = post("/cds-services/crlm-ablation-patient-view", hook("crlm-demo-01"), id, null);
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("X-Correlation-Id")).isEqualTo(id);

        String line = lineFor(id);
        assertThat(line)
                .contains("call=hook")
                .contains("service=crlm-ablation-patient-view")
                .contains("status=200")
                .containsPattern("durationMs=\\d+")
                .contains("rules=" + String.join(",", CdsHooksShape.ruleIds(response.json())))
                .contains("reason=-")
                .doesNotContain("crlm-demo-01");
    }

    @Test
    void aRefusedTokenIsOneLineWithTheRefusalReason() {
        String id = "log-jwt-" + UUID.randomUUID();
        String url = base() + "/cds-services/crlm-ablation-patient-view";
        String expired = keys().cdsJwt(
                        com.nimbusds.jose.JWSAlgorithm.RS384,
                        keys().rsa.getKeyID(),
                        org.crlm.cds.support.TestKeys.claims(
                                url,
                                java.time.Instant.now().minusSeconds(900),
                                java.time.Instant.now().minusSeconds(300)),
                        null);
        assertThat(post("/cds-services/crlm-ablation-patient-view", hook("crlm-demo-01"), id, expired)
                        .status())
                .isEqualTo(401);

        assertThat(lineFor(id))
                .contains("status=401")
                .contains("reason=jwt EXPIRED")
                .doesNotContain(expired);
    }

    @Test
    void aCallWithoutTheDataItNeedsIsOneLineNamingTheMissingKeys() {
        String id = "log-412-" + UUID.randomUUID();
        assertThat(post("/cds-services/crlm-ablation-patient-view", hook("no-such-patient-4711"), id, null)
                        .status())
                .isEqualTo(412);

        assertThat(lineFor(id))
                .contains("status=412")
                .contains("reason=incomplete at prefetch.")
                .contains("prefetch.geneticResults")
                .doesNotContain("no-such-patient-4711");
    }

    @Test
    void aMalformedRequestAndAnUnroutedPathAreLoggedWithTheirReason() {
        String bad = "log-400-" + UUID.randomUUID();
        assertThat(post("/cds-services/crlm-ablation-patient-view", "{\"hook\": \"patient-view\"}", bad, null)
                        .status())
                .isEqualTo(400);
        assertThat(lineFor(bad)).contains("status=400").contains("reason=invalid at ");

        String unrouted = "log-404-" + UUID.randomUUID();
        assertThat(post("/cds-services/crlm-ablation-patient-view/no/such/path", "{}", unrouted, null)
                        .status())
                .isEqualTo(404);
        assertThat(lineFor(unrouted)).contains("status=404").containsPattern("reason=(http|routing)-404");
    }

    @Test
    void aFeedbackCallIsOneLineWithTheRuleIdsOfItsCards() {
        Http.Response cards = post(
                "/cds-services/crlm-ablation-patient-view",
                hook("crlm-demo-01"),
                "log-cards-" + UUID.randomUUID(),
                null);
        String card = cards.json().path("cards").get(0).path("uuid").asText();
        String rule = cards.json()
                .path("cards")
                .get(0)
                .path("source")
                .path("topic")
                .path("code")
                .asText();
        String id = "log-feedback-" + UUID.randomUUID();
        Http.Response feedback = post(
                "/cds-services/crlm-ablation-patient-view/feedback",
                """
                {"feedback": [{"card": "%s", "outcome": "overridden", "outcomeTimestamp": "2026-11-21T10:00:00Z"}]}"""
                        .formatted(card),
                id,
                null);
        assertThat(feedback.status()).as(feedback.body()).isEqualTo(200);

        assertThat(lineFor(id))
                .contains("call=feedback")
                .contains("service=crlm-ablation-patient-view")
                .contains("status=200")
                .contains("rules=" + rule);
    }
}
