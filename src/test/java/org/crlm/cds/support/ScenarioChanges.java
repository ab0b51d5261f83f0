package org.crlm.cds.support;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.StringType;

/**
 * The scenarios a refused publish says would change their cards, and the extensions that
 * publish them again with the scenarios' new expectations (what an informatician does after
 * reviewing the impact).
 */
public final class ScenarioChanges {

    public static final String EXPECTATION = "http://crlm-cds.org/fhir/StructureDefinition/scenario-expectation";
    private static final Pattern CHANGE = Pattern.compile(
            "(?s)^scenario (\\S+): \".*\" would change its cards from (.*?) to (.*?) but expects (.*?); publish.*");

    private ScenarioChanges() {}

    /** A scenario's rules before and after the refused candidate. */
    public record Change(Set<String> before, Set<String> after) {}

    public static Map<String, Change> of(OperationOutcome outcome) {
        Map<String, Change> changes = new LinkedHashMap<>();
        for (OperationOutcome.OperationOutcomeIssueComponent issue : outcome.getIssue()) {
            Matcher m = CHANGE.matcher(issue.getDiagnostics());
            if (m.matches()) {
                changes.put(m.group(1), new Change(rules(m.group(2)), rules(m.group(3))));
            }
        }
        return changes;
    }

    /** Adds one expectation extension per scenario to the resource that is published. */
    public static <T extends DomainResource> T expecting(T resource, Map<String, Set<String>> expectations) {
        resource.getExtension().removeIf(e -> EXPECTATION.equals(e.getUrl()));
        expectations.forEach((scenario, rules) -> {
            Extension e = resource.addExtension().setUrl(EXPECTATION);
            e.addExtension("scenario", new StringType(scenario));
            rules.forEach(r -> e.addExtension("rule", new StringType(r)));
        });
        return resource;
    }

    public static Map<String, Set<String>> after(Map<String, Change> changes) {
        Map<String, Set<String>> after = new LinkedHashMap<>();
        changes.forEach((id, c) -> after.put(id, c.after()));
        return after;
    }

    public static Map<String, Set<String>> before(Map<String, Change> changes) {
        Map<String, Set<String>> before = new LinkedHashMap<>();
        changes.forEach((id, c) -> before.put(id, c.before()));
        return before;
    }

    private static Set<String> rules(String text) {
        return "(none)".equals(text) ? new TreeSet<>() : new TreeSet<>(Arrays.asList(text.split(",\\s*")));
    }
}
