package org.crlm.cds.rules;

import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.cqframework.cql.cql2elm.LibraryManager;
import org.hl7.fhir.r4.model.ActivityDefinition;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.PlanDefinition;

/**
 * One immutable, compiled generation of the rules: libraries ready for the evaluator (no
 * translation left to do), value sets, and the PlanDefinitions that turn expressions into
 * cards. Swapped whole when anything changes, so a call sees one consistent generation.
 */
public final class RuleSet {

    private final long generation;
    private final Instant builtAt;
    private final LibraryManager libraryManager;
    private final ValueSetTerminology terminology;
    private final Map<String, RuleLibrary> librariesByKey;
    private final Map<String, PlanDefinition> planDefinitions;
    private final Map<String, ActivityDefinition> activityDefinitions;
    private final Map<String, CodeSystem> codeSystems;
    private final List<CqlMessage> warnings;

    RuleSet(
            long generation,
            LibraryManager libraryManager,
            ValueSetTerminology terminology,
            Map<String, RuleLibrary> librariesByKey,
            Map<String, PlanDefinition> planDefinitions,
            Map<String, ActivityDefinition> activityDefinitions,
            Map<String, CodeSystem> codeSystems,
            List<CqlMessage> warnings) {
        this.generation = generation;
        this.builtAt = Instant.now();
        this.libraryManager = libraryManager;
        this.terminology = terminology;
        this.librariesByKey = Map.copyOf(librariesByKey);
        this.planDefinitions = Map.copyOf(planDefinitions);
        this.activityDefinitions = Map.copyOf(activityDefinitions);
        this.codeSystems = Map.copyOf(codeSystems);
        this.warnings = List.copyOf(warnings);
    }

    public long generation() {
        return generation;
    }

    public Instant builtAt() {
        return builtAt;
    }

    LibraryManager libraryManager() {
        return libraryManager;
    }

    ValueSetTerminology terminology() {
        return terminology;
    }

    /** The codes of a value set as {@code system|code}, ConceptMap equivalents included. */
    /** The codes of a value set; refused for one with filters, whose members cannot be listed. */
    public List<String> valueSetCodes(String url) {
        if (!terminology.isEnumerable(url)) {
            throw new IllegalStateException("ValueSet " + url + " has filters; its codes cannot be listed");
        }
        List<String> codes = new java.util.ArrayList<>();
        terminology
                .expand(new org.opencds.cqf.cql.engine.terminology.ValueSetInfo().withId(url))
                .forEach(c -> codes.add(c.getSystem() + "|" + c.getCode()));
        return codes;
    }

    /**
     * The listed members of a value set as {@code system|code} (ConceptMap equivalents
     * included), without what its compose filters match; {@link #valueSetHasFilters} says
     * whether there is more.
     */
    public List<String> listedValueSetCodes(String url) {
        List<String> codes = new java.util.ArrayList<>();
        terminology
                .expand(new org.opencds.cqf.cql.engine.terminology.ValueSetInfo().withId(url))
                .forEach(c -> codes.add(c.getSystem() + "|" + c.getCode()));
        return codes;
    }

    /** Membership as the hooks decide it: listed codes, ConceptMap equivalents and compose filters. */
    public boolean valueSetContains(String url, String system, String code) {
        return terminology.in(
                new org.opencds.cqf.cql.engine.runtime.Code().withSystem(system).withCode(code),
                new org.opencds.cqf.cql.engine.terminology.ValueSetInfo().withId(url));
    }

    public boolean valueSetHasFilters(String url) {
        return !terminology.isEnumerable(url);
    }

    public boolean hasValueSet(String url) {
        return terminology.valueSetUrls().contains(url);
    }

    public List<CqlMessage> warnings() {
        return warnings;
    }

    public Collection<RuleLibrary> libraries() {
        return librariesByKey.values();
    }

    /** Resolves a canonical ({@code url} or {@code url|version}); without a version, the highest one. */
    public Optional<RuleLibrary> library(String canonical) {
        return resolve(canonical, librariesByKey);
    }

    public Optional<PlanDefinition> planDefinition(String canonical) {
        return Optional.ofNullable(planDefinitions.get(stripVersion(canonical)));
    }

    public Collection<PlanDefinition> planDefinitions() {
        return planDefinitions.values();
    }

    public Optional<ActivityDefinition> activityDefinition(String canonical) {
        return Optional.ofNullable(activityDefinitions.get(stripVersion(canonical)));
    }

    public Optional<CodeSystem> codeSystem(String url) {
        return Optional.ofNullable(codeSystems.get(stripVersion(url)));
    }

    static String stripVersion(String canonical) {
        int bar = canonical.indexOf('|');
        return bar < 0 ? canonical : canonical.substring(0, bar);
    }

    private static Optional<RuleLibrary> resolve(String canonical, Map<String, RuleLibrary> byKey) {
        if (canonical == null) {
            return Optional.empty();
        }
        if (canonical.contains("|")) {
            return Optional.ofNullable(byKey.get(canonical));
        }
        return byKey.values().stream()
                .filter(l -> l.url().equals(canonical))
                .max(Comparator.comparing(RuleLibrary::version, Versions.ORDER));
    }
}
