package org.crlm.cds.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.crlm.cds.cdshooks.CdsHooksProperties;
import org.crlm.cds.cdshooks.CdsJson;
import org.crlm.cds.cdshooks.FhirJsonReader;
import org.crlm.cds.cdshooks.HookRequest;
import org.crlm.cds.cdshooks.HookRequestParser;
import org.crlm.cds.cdshooks.PatientRecordProperties;
import org.crlm.cds.cdshooks.PrefetchResolver;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.security.CdsClientProperties;
import org.crlm.cds.security.CdsJwtVerifier;
import org.crlm.cds.security.JtiReplayStore;
import org.crlm.cds.security.LimitsProperties;
import org.crlm.cds.support.TestKeys;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.springframework.util.unit.DataSize;

/**
 * Load-independent CPU time and allocated bytes per call of the parts of an order-sign call with
 * prefetch that lie outside the CQL engine, each run in a loop on this thread
 * ({@code ThreadMXBean} thread CPU time and allocated bytes, so other processes on a shared
 * machine do not count): reading the request body into a JSON tree (limits checked), the
 * hook request and its prefetch as FHIR resources, the client JWT's verification (the replay
 * store's database insert left out), and the response written as JSON. The same request as
 * the HTTP benchmark's (demo patient crlm-demo-01), and the scale patient's 1 000 Observations.
 * Arguments: seconds per part (5), rounds (3), optionally the start of the one part's name to run.
 *
 * <pre>java -cp target/test-classes:target/classes:$(cat cp.txt) org.crlm.cds.bench.HookOverheadCpu 5 3</pre>
 */
public final class HookOverheadCpu {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        var knowledge = BenchData.knowledge();
        RuleSet rules = BenchData.rules(knowledge);
        ServiceDefinition orderSign = BenchData.service(rules, "crlm-ablation-order-sign");
        List<IBaseResource> record = BenchData.demoRecord();
        ObjectNode request = BenchData.request(
                orderSign,
                rules,
                BenchData.PATIENT,
                BenchData.withoutOrders(record),
                BenchData.draftOrders(record),
                true);
        byte[] body = BenchData.JSON.writeValueAsBytes(request);
        List<IBaseResource> scaledRecord = BenchData.scaledRecord("crlm-scale-1000", 1000);
        ObjectNode scaledRequest = BenchData.request(
                orderSign,
                rules,
                "crlm-scale-1000",
                scaledRecord,
                List.of(BenchData.scaledOrder("crlm-scale-1000")),
                true);
        byte[] scaledBody = BenchData.JSON.writeValueAsBytes(scaledRequest);

        var bodies =
                new org.crlm.cds.security.JsonBodyReader(new LimitsProperties(DataSize.ofMegabytes(5), 64, 200_000));
        FhirJsonReader fhirJson = new FhirJsonReader(BenchData.FHIR);
        HookRequestParser parser = new HookRequestParser(fhirJson);
        PrefetchResolver prefetch = new PrefetchResolver(
                fhirJson,
                null,
                null,
                null,
                new PatientRecordProperties(false, false),
                new CdsHooksProperties(true, "x", Duration.ofSeconds(5), DataSize.ofMegabytes(20), 20, 5000, 0, ""));
        JsonNode tree = bodies.parse(body);
        JsonNode scaledTree = bodies.parse(scaledBody);

        String audience = "http://127.0.0.1:8080/cds-services/crlm-ablation-order-sign";
        CdsClientProperties clients = new CdsClientProperties(
                true,
                null,
                List.of("RS384", "ES384"),
                Duration.ofMinutes(60),
                Duration.ofSeconds(60),
                Duration.ofMinutes(5),
                Duration.ofSeconds(30),
                Duration.ofMinutes(15),
                Duration.ofSeconds(10),
                Duration.ofSeconds(30),
                List.of(new CdsClientProperties.Issuer(
                        TestKeys.CDS_ISSUER,
                        null,
                        null,
                        new JWKSet(List.of(
                                        TestKeys.get().rsa.toPublicJWK(),
                                        TestKeys.get().ec.toPublicJWK()))
                                .toString(),
                        List.of())));
        CdsJwtVerifier verifier = new CdsJwtVerifier(clients, new NoReplayStore());
        String token = "Bearer "
                + TestKeys.get()
                        .cdsJwt(
                                JWSAlgorithm.RS384,
                                TestKeys.get().rsa.getKeyID(),
                                TestKeys.claims(
                                        audience, Instant.now(), Instant.now().plusSeconds(55 * 60)),
                                null);
        List<String> audiences = List.of(audience);

        // The response of the benchmark's order-sign call, as the service writes it.
        CdsJson cdsJson = new CdsJson(BenchData.FHIR);
        Object response = sampleResponse(BenchData.FHIR);

        Map<String, Runnable> parts = new java.util.LinkedHashMap<>();
        parts.put("read body (JSON tree, limits)", () -> bodies.parse(body));
        parts.put("hook request + prefetch as FHIR", () -> {
            HookRequest parsed = parser.parse(tree);
            prefetch.resolve(orderSign, parsed, rules);
        });
        parts.put("JWT verify (RS384, no replay insert)", () -> verifier.verify(token, audiences));
        parts.put("response JSON (as sent: UTF-8 bytes)", () -> {
            try {
                cdsJson.getClass().getMethod("writeBytes", Object.class).invoke(cdsJson, response);
            } catch (NoSuchMethodException e) {
                // Before CdsJson.writeBytes: a String, encoded by Spring twice (Content-Length, body).
                String text = cdsJson.write(response);
                text.getBytes(StandardCharsets.UTF_8);
                text.getBytes(StandardCharsets.UTF_8);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        });
        // The audit row's list of the resources read (package-private: reached by reflection).
        var patientRecord = prefetch.resolve(orderSign, parser.parse(tree), rules);
        var resourcesRead = org.crlm.cds.ops.AuditTrail.class.getDeclaredMethod("resourcesRead", List.class);
        resourcesRead.setAccessible(true);
        parts.put("audit row: resources read as JSON", () -> {
            try {
                resourcesRead.invoke(null, patientRecord.read());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        });
        parts.put("1000 Observations: read body", () -> bodies.parse(scaledBody));
        parts.put("1000 Observations: hook request + prefetch as FHIR", () -> {
            HookRequest parsed = parser.parse(scaledTree);
            prefetch.resolve(orderSign, parsed, rules);
        });

        if (args.length > 2) {
            parts.keySet().removeIf(name -> !name.startsWith(args[2]));
        }
        System.out.printf(
                "order-sign body %d KB, 1000-Observation body %d KB%n", body.length / 1024, scaledBody.length / 1024);
        for (int warm = 0; warm < 2; warm++) {
            for (Runnable part : parts.values()) {
                loop(part, seconds);
            }
        }
        for (int round = 0; round < rounds; round++) {
            for (Map.Entry<String, Runnable> part : parts.entrySet()) {
                long[] r = loop(part.getValue(), seconds);
                System.out.printf(
                        "round %d  %-52s CPU %8.1f µs/call  allocated %9.1f KB/call  (%d calls)%n",
                        round, part.getKey(), r[0] / 1e3 / r[2], r[1] / 1024.0 / r[2], r[2]);
            }
        }
        System.exit(0);
    }

    /** [CPU ns, allocated bytes, calls] of this thread running the part for the given seconds. */
    private static long[] loop(Runnable part, int seconds) {
        long id = Thread.currentThread().getId();
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long alloc0 = THREADS.getThreadAllocatedBytes(id);
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long n = 0;
        while (System.nanoTime() < end) {
            part.run();
            n++;
        }
        return new long[] {THREADS.getCurrentThreadCpuTime() - cpu0, THREADS.getThreadAllocatedBytes(id) - alloc0, n};
    }

    /** The cards of a two-ablation KRAS scenario as the service answers them (its golden answer, read back). */
    private static Object sampleResponse(ca.uhn.fhir.context.FhirContext fhir) throws java.io.IOException {
        var mapper = new ca.uhn.hapi.fhir.cdshooks.module.CdsHooksObjectMapperFactory(fhir).newMapper();
        JsonNode golden = mapper.readTree(java.nio.file.Path.of(
                        "src/test/resources/golden/cards/001-kras-variant-hgnc-prefixed-two-ablations.json")
                .toFile());
        ObjectNode response = mapper.createObjectNode();
        response.set("cards", golden.get("cards"));
        return mapper.treeToValue(response, ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseJson.class);
    }

    /** The replay store without its database: every jti is new. */
    private static final class NoReplayStore extends JtiReplayStore {
        NoReplayStore() {
            super(null);
        }

        @Override
        public boolean firstUse(String issuer, String jti, Instant expiresAt) {
            return true;
        }
    }

    private HookOverheadCpu() {}
}
