package org.crlm.cds.authoring;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.crlm.cds.knowledge.DateShift;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;

/**
 * A rule test case from {@code cql/tests/}: a patient's record, the hook and its draft orders,
 * and the exact set of rules expected to fire. Informaticians add cases as files.
 */
public record RuleTestCase(
        Path file,
        String title,
        String hook,
        String patientId,
        Bundle record,
        Bundle draftOrders,
        List<String> selections,
        Set<String> expectedRules,
        Map<String, List<String>> expectedFacts,
        ZonedDateTime evaluationDate) {

    public static final Path DIR = Path.of("cql", "tests");
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    public static List<RuleTestCase> all() {
        return all(DIR);
    }

    public static List<RuleTestCase> all(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(RuleTestCase::isScenarioFile)
                    .sorted()
                    .map(RuleTestCase::load)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean isScenarioFile(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".json") || name.endsWith(".yaml") || name.endsWith(".yml");
    }

    public static RuleTestCase load(Path file) {
        FhirContext fhir = FhirContext.forR4Cached();
        try {
            String name = file.getFileName().toString();
            JsonNode root = name.endsWith(".json") ? JSON.readTree(file.toFile()) : ShortScenario.read(file);
            Bundle record = fhir.newJsonParser()
                    .parseResource(Bundle.class, root.get("record").toString());
            Bundle drafts = root.hasNonNull("draftOrders")
                    ? fhir.newJsonParser()
                            .parseResource(Bundle.class, root.get("draftOrders").toString())
                    : null;
            List<String> selections = new ArrayList<>();
            root.path("selections").forEach(s -> selections.add(s.asText()));
            Set<String> expected = new LinkedHashSet<>();
            root.path("expectedRules").forEach(r -> expected.add(r.asText()));
            Map<String, List<String>> facts = new LinkedHashMap<>();
            root.path("expectedFacts").fields().forEachRemaining(e -> {
                List<String> parts = new ArrayList<>();
                e.getValue().forEach(v -> parts.add(v.asText()));
                facts.put(e.getKey(), parts);
            });
            ZonedDateTime evaluationDate = root.hasNonNull("evaluationDate")
                    ? ZonedDateTime.parse(root.get("evaluationDate").asText())
                    : null;
            return new RuleTestCase(
                    file,
                    root.path("title").asText(),
                    root.path("hook").asText(),
                    root.path("patientId").asText(),
                    record,
                    drafts,
                    selections,
                    expected,
                    facts,
                    evaluationDate);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new MalformedScenarioException(
                    file, e.getLocation() == null ? null : e.getLocation().getLineNr(), e.getOriginalMessage());
        } catch (org.yaml.snakeyaml.error.MarkedYAMLException e) {
            throw new MalformedScenarioException(
                    file, e.getProblemMark() == null ? null : e.getProblemMark().getLine() + 1, e.getProblem());
        } catch (ca.uhn.fhir.parser.DataFormatException | NullPointerException e) {
            throw new MalformedScenarioException(
                    file, null, "record/draftOrders is not a FHIR R4 Bundle: " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * This case with every date of its record and draft orders moved by whole months so that its
     * evaluation date falls within a month before {@code today}: for paths that cannot set the
     * rules' "now" (a CDS Hooks call evaluates at the current time). Cases keep a margin of more
     * than a month from the measurement window. Without an evaluation date, the case itself.
     */
    public RuleTestCase relativeTo(LocalDate today) {
        if (evaluationDate == null) {
            return this;
        }
        int months = DateShift.months(
                evaluationDate.withZoneSameInstant(ZoneOffset.UTC).toLocalDate(), today);
        Bundle movedRecord = DateShift.shift(record.copy(), months);
        Bundle movedDrafts = draftOrders == null ? null : DateShift.shift(draftOrders.copy(), months);
        return new RuleTestCase(
                file,
                title,
                hook,
                patientId,
                movedRecord,
                movedDrafts,
                selections,
                expectedRules,
                expectedFacts,
                evaluationDate.plusMonths(months));
    }

    /** A scenario file that cannot be read: the message names the file and, when known, the line. */
    public static final class MalformedScenarioException extends RuntimeException {
        public MalformedScenarioException(Path file, Integer line, String reason) {
            super(file + (line == null || line < 1 ? "" : " line " + line) + ": " + reason);
        }
    }

    /** The scenario's id: its file name without the extension. */
    public String id() {
        String fileName = file.getFileName().toString();
        int dot = fileName.lastIndexOf('.');
        return dot < 0 ? fileName : fileName.substring(0, dot);
    }

    public RuleTestCase withExpectedRules(Set<String> rules) {
        return new RuleTestCase(
                file,
                title,
                hook,
                patientId,
                record,
                draftOrders,
                selections,
                Set.copyOf(rules),
                expectedFacts,
                evaluationDate);
    }

    public String name() {
        return id() + ": " + title;
    }

    public String serviceId() {
        return "crlm-ablation-" + hook;
    }

    public List<IBaseResource> recordResources() {
        List<IBaseResource> resources = new ArrayList<>();
        record.getEntry().forEach(e -> resources.add(e.getResource()));
        return resources;
    }

    public List<IBaseResource> draftOrderResources() {
        List<IBaseResource> resources = new ArrayList<>();
        if (draftOrders != null) {
            draftOrders.getEntry().forEach(e -> resources.add(e.getResource()));
        }
        return resources;
    }

    /**
     * The orders the hook is about, as the request sends them: order-select's selections (all
     * draft orders when the case names none), order-sign's draft orders; null for patient-view.
     */
    public List<String> hookOrderIds() {
        if (draftOrders == null || !("order-select".equals(hook) || "order-sign".equals(hook))) {
            return null;
        }
        if ("order-select".equals(hook) && !selections.isEmpty()) {
            return List.copyOf(selections);
        }
        List<String> ids = new ArrayList<>();
        draftOrders
                .getEntry()
                .forEach(e -> ids.add(e.getResource().fhirType() + "/"
                        + e.getResource().getIdElement().getIdPart()));
        return ids;
    }

    /**
     * The CDS Hooks request for this case.
     *
     * @param prefetch the prefetch object to send, or null for none (the service then reads its own store)
     */
    public ObjectNode request(ObjectNode prefetch) {
        FhirContext fhir = FhirContext.forR4Cached();
        ObjectNode request = JSON.createObjectNode();
        request.put("hook", hook);
        request.put("hookInstance", java.util.UUID.randomUUID().toString());
        ObjectNode context = request.putObject("context");
        context.put("userId", "Practitioner/test-surgeon");
        context.put("patientId", patientId);
        if (draftOrders != null) {
            try {
                context.set("draftOrders", JSON.readTree(fhir.newJsonParser().encodeResourceToString(draftOrders)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if ("order-select".equals(hook)) {
                ArrayNode sel = context.putArray("selections");
                if (selections.isEmpty()) {
                    draftOrders
                            .getEntry()
                            .forEach(e -> sel.add(e.getResource().fhirType() + "/"
                                    + e.getResource().getIdElement().getIdPart()));
                } else {
                    selections.forEach(sel::add);
                }
            }
        }
        if (prefetch != null) {
            request.set("prefetch", prefetch);
        }
        return request;
    }
}
