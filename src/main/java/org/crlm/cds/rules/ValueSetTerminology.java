package org.crlm.cds.rules;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.r4.model.ConceptMap;
import org.hl7.fhir.r4.model.Enumerations.ConceptMapEquivalence;
import org.hl7.fhir.r4.model.ValueSet;
import org.opencds.cqf.cql.engine.runtime.Code;
import org.opencds.cqf.cql.engine.terminology.CodeSystemInfo;
import org.opencds.cqf.cql.engine.terminology.TerminologyProvider;
import org.opencds.cqf.cql.engine.terminology.ValueSetInfo;

/**
 * Value set membership from the project's ValueSets (enumerated concepts, expansions, included
 * value sets, and the compose filters this class can evaluate honestly), widened by
 * ConceptMaps: a site's local code mapped as equivalent or equal to a member counts as a
 * member. Built once per rule set; lookups are hash hits (plus a prefix test per filter).
 *
 * <p>Filters: {@code is-a} / {@code descendent-of} on property {@code concept} only for the
 * ICD-10 family, whose codes carry their hierarchy ({@code C18.7} is a {@code C18}); {@code regex}
 * on property {@code code} for any system. Any other filter (a SNOMED is-a needs a SNOMED
 * release, which the project does not have) is refused when the rules are built, never ignored.
 */
public final class ValueSetTerminology implements TerminologyProvider {

    /** Code systems whose hierarchy is readable from the code: ICD-10 (WHO), ICD-10-CM and ICD-10-GM. */
    static final Set<String> ICD10_FAMILY = Set.of(
            "http://hl7.org/fhir/sid/icd-10",
            "http://hl7.org/fhir/sid/icd-10-cm",
            "http://fhir.de/CodeSystem/bfarm/icd-10-gm",
            "http://fhir.de/CodeSystem/dimdi/icd-10-gm");

    /** One evaluable compose filter. */
    record Filter(String system, String op, String value, java.util.regex.Pattern regex) {

        boolean matches(String codeSystem, String code) {
            if (code == null || !system.equals(codeSystem)) {
                return false;
            }
            return switch (op) {
                case "is-a" -> code.equals(value) || below(code);
                case "descendent-of" -> below(code);
                default -> regex.matcher(code).matches();
            };
        }

        /** C18.7 and C187 are below C18; C180 is not below C1. */
        private boolean below(String code) {
            if (!code.startsWith(value) || code.length() == value.length()) {
                return false;
            }
            char next = code.charAt(value.length());
            return next == '.' || (value.length() >= 3 && Character.isDigit(next)) || value.contains(".");
        }

        static Filter of(String valueSet, String system, ValueSet.ConceptSetFilterComponent f) {
            String op = f.getOp() == null ? null : f.getOp().toCode();
            if (("is-a".equals(op) || "descendent-of".equals(op))
                    && "concept".equals(f.getProperty())
                    && ICD10_FAMILY.contains(system)) {
                return new Filter(system, op, f.getValue(), null);
            }
            if ("regex".equals(op) && "code".equals(f.getProperty())) {
                return new Filter(system, op, f.getValue(), java.util.regex.Pattern.compile(f.getValue()));
            }
            throw new IllegalArgumentException("ValueSet " + valueSet + ": filter " + f.getProperty() + " " + op + " "
                    + f.getValue() + " on " + system
                    + " cannot be evaluated here (supported: is-a/descendent-of on ICD-10 codes, regex on code)");
        }
    }

    private final Map<String, List<Code>> members = new HashMap<>();
    private final Map<String, Set<String>> keys = new HashMap<>();
    private final Map<String, List<Filter>> filters = new HashMap<>();

    public ValueSetTerminology(Collection<ValueSet> valueSets, Collection<ConceptMap> conceptMaps) {
        Map<String, ValueSet> byUrl = new HashMap<>();
        for (ValueSet vs : valueSets) {
            byUrl.put(vs.getUrl(), vs);
        }
        Map<String, List<Code>> localEquivalents = localEquivalents(conceptMaps);
        for (ValueSet vs : valueSets) {
            List<Code> codes = new ArrayList<>();
            List<Filter> vsFilters = new ArrayList<>();
            collect(vs, byUrl, codes, vsFilters, new HashSet<>());
            filters.put(vs.getUrl(), List.copyOf(vsFilters));
            List<Code> widened = new ArrayList<>(codes);
            for (Code c : codes) {
                widened.addAll(localEquivalents.getOrDefault(key(c.getSystem(), c.getCode()), List.of()));
            }
            members.put(vs.getUrl(), List.copyOf(widened));
            Set<String> set = new HashSet<>();
            widened.forEach(c -> set.add(key(c.getSystem(), c.getCode())));
            keys.put(vs.getUrl(), set);
        }
    }

    private static void collect(
            ValueSet vs, Map<String, ValueSet> byUrl, List<Code> into, List<Filter> filtersInto, Set<String> visited) {
        if (!visited.add(vs.getUrl())) {
            return;
        }
        for (ValueSet.ValueSetExpansionContainsComponent c : vs.getExpansion().getContains()) {
            into.add(code(c.getSystem(), c.getCode(), c.getDisplay()));
        }
        for (ValueSet.ConceptSetComponent include : vs.getCompose().getInclude()) {
            for (ValueSet.ConceptReferenceComponent c : include.getConcept()) {
                into.add(code(include.getSystem(), c.getCode(), c.getDisplay()));
            }
            for (ValueSet.ConceptSetFilterComponent f : include.getFilter()) {
                filtersInto.add(Filter.of(vs.getUrl(), include.getSystem(), f));
            }
            for (var nested : include.getValueSet()) {
                ValueSet other = byUrl.get(nested.getValue());
                if (other != null) {
                    collect(other, byUrl, into, filtersInto, visited);
                }
            }
        }
    }

    private static Map<String, List<Code>> localEquivalents(Collection<ConceptMap> conceptMaps) {
        Map<String, List<Code>> result = new HashMap<>();
        for (ConceptMap map : conceptMaps) {
            for (ConceptMap.ConceptMapGroupComponent group : map.getGroup()) {
                for (ConceptMap.SourceElementComponent element : group.getElement()) {
                    for (ConceptMap.TargetElementComponent target : element.getTarget()) {
                        ConceptMapEquivalence eq = target.getEquivalence();
                        if (eq == ConceptMapEquivalence.EQUIVALENT || eq == ConceptMapEquivalence.EQUAL) {
                            result.computeIfAbsent(key(group.getTarget(), target.getCode()), k -> new ArrayList<>())
                                    .add(code(group.getSource(), element.getCode(), element.getDisplay()));
                        }
                    }
                }
            }
        }
        return result;
    }

    private static Code code(String system, String code, String display) {
        return new Code().withSystem(system).withCode(code).withDisplay(display);
    }

    private static String key(String system, String code) {
        return system + "|" + code;
    }

    public Set<String> valueSetUrls() {
        return keys.keySet();
    }

    @Override
    public boolean in(Code code, ValueSetInfo valueSet) {
        Set<String> set = keys.get(valueSet.getId());
        if (set == null) {
            throw new IllegalArgumentException("Unknown value set " + valueSet.getId());
        }
        if (set.contains(key(code.getSystem(), code.getCode()))) {
            return true;
        }
        for (Filter f : filters.get(valueSet.getId())) {
            if (f.matches(code.getSystem(), code.getCode())) {
                return true;
            }
        }
        return false;
    }

    /** False when the value set has filters: its members cannot be listed (e.g. in a prefetch code list). */
    public boolean isEnumerable(String valueSetUrl) {
        return filters.getOrDefault(valueSetUrl, List.of()).isEmpty();
    }

    /** The enumerated members only; {@link #isEnumerable} says whether filters add more. */
    @Override
    public Iterable<Code> expand(ValueSetInfo valueSet) {
        List<Code> codes = members.get(valueSet.getId());
        if (codes == null) {
            throw new IllegalArgumentException("Unknown value set " + valueSet.getId());
        }
        return codes;
    }

    @Override
    public Code lookup(Code code, CodeSystemInfo codeSystem) {
        return code;
    }
}
