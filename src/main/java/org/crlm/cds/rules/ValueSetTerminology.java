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
 * Value set membership from the project's ValueSets (enumerated concepts, expansions, and
 * included value sets), widened by ConceptMaps: a site's local code mapped as equivalent
 * or equal to a member counts as a member. Built once per rule set; lookups are hash hits.
 */
public final class ValueSetTerminology implements TerminologyProvider {

    private final Map<String, List<Code>> members = new HashMap<>();
    private final Map<String, Set<String>> keys = new HashMap<>();

    public ValueSetTerminology(Collection<ValueSet> valueSets, Collection<ConceptMap> conceptMaps) {
        Map<String, ValueSet> byUrl = new HashMap<>();
        for (ValueSet vs : valueSets) {
            byUrl.put(vs.getUrl(), vs);
        }
        Map<String, List<Code>> localEquivalents = localEquivalents(conceptMaps);
        for (ValueSet vs : valueSets) {
            List<Code> codes = new ArrayList<>();
            collect(vs, byUrl, codes, new HashSet<>());
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

    private static void collect(ValueSet vs, Map<String, ValueSet> byUrl, List<Code> into, Set<String> visited) {
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
            for (var nested : include.getValueSet()) {
                ValueSet other = byUrl.get(nested.getValue());
                if (other != null) {
                    collect(other, byUrl, into, visited);
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
        return set.contains(key(code.getSystem(), code.getCode()));
    }

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
