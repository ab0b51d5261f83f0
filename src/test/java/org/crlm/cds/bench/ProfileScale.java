package org.crlm.cds.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.crlm.cds.cdshooks.FhirJsonReader;
import org.crlm.cds.knowledge.RuleDefinition;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.EvaluationSession;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.security.JsonBodyReader;
import org.crlm.cds.security.LimitsProperties;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.util.unit.DataSize;

/**
 * Profiles, in-process with JFR, the two parts of an order-sign call with prefetch that grow
 * with the record: parsing the prefetch (HAPI's JSON parser) and evaluating the rules (CQL),
 * on the benchmark's scaled patient (argument: the number of Observations, default 1000). The
 * parse is timed as the service does it: request bytes to a JSON tree, then HAPI from the tree.
 * Writes target/benchmark/scale-profile.md.
 */
public final class ProfileScale {

    public static void main(String[] args) throws Exception {
        int size = args.length > 0 && !args[0].isBlank() ? Integer.parseInt(args[0].trim()) : 1000;
        var knowledge = BenchData.knowledge();
        RuleSet rules = BenchData.rules(knowledge);
        RuleEngine engine = new RuleEngine();
        ServiceDefinition service = BenchData.service(rules, "crlm-ablation-order-sign");
        List<IBaseResource> record = BenchData.scaledRecord("scale", size);
        Bundle bundle = new Bundle().setType(Bundle.BundleType.SEARCHSET);
        record.forEach(r -> bundle.addEntry().setResource((Resource) r));
        String json = BenchData.FHIR.newJsonParser().encodeResourceToString(bundle);
        List<IBaseResource> data = new ArrayList<>(record);
        data.add(BenchData.scaledOrder("scale"));

        // As the service reads a prefetch: the request's bytes into one JSON tree (limits checked),
        // the Bundle parsed by HAPI from that tree (not from text a second time).
        byte[] body = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        JsonBodyReader bodies = new JsonBodyReader(new LimitsProperties(DataSize.ofMegabytes(64), 64, 5_000_000));
        FhirJsonReader fhirJson = new FhirJsonReader(BenchData.FHIR);
        Runnable parse = () -> fhirJson.read(bodies.parse(body), Bundle.class);
        Runnable evaluate = () -> {
            EvaluationSession session = engine.open(rules, new PatientData("scale", data), Map.of());
            for (RuleDefinition rule : service.rules()) {
                if (session.evaluate(rule.condition()).isTrue()) {
                    session.evaluate(rule.facts());
                }
            }
        };
        long warmEnd = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < warmEnd) {
            parse.run();
            evaluate.run();
        }
        Path file = Path.of("target", "benchmark", "scale.jfr");
        java.nio.file.Files.createDirectories(file.getParent());
        try (Recording recording = new Recording(Configuration.getConfiguration("profile"))) {
            recording.start();
            System.out.printf(
                    "%d Observations (%d KB of JSON): parse %.2f ms, evaluate %.2f ms per call%n",
                    size, json.length() / 1024, timed(parse, 15), timed(evaluate, 15));
            recording.stop();
            recording.dump(file);
        }
        JfrSummary.write(file, Path.of("target", "benchmark", "scale-profile.md"));
        System.exit(0);
    }

    private static double timed(Runnable work, int seconds) {
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        int n = 0;
        while (System.nanoTime() < end) {
            work.run();
            n++;
        }
        return (System.nanoTime() - start) / 1e6 / n;
    }
}
