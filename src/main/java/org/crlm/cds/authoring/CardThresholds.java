package org.crlm.cds.authoring;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.crlm.cds.knowledge.RuleDefinition;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.CqlMessage;
import org.crlm.cds.rules.RuleLibrary;
import org.crlm.cds.rules.RuleSet;
import org.hl7.elm.r1.Literal;
import org.hl7.elm.r1.ParameterDef;
import org.hl7.elm.r1.ToDecimal;

/**
 * A rule's card summary and topic state its threshold in words ("a lesion of 30 mm or more");
 * the threshold itself is a CQL parameter ({@code "Large Lesion mm"}). At publish, every
 * "NN mm" in a rule's summary or topic must equal the default of a millimetre parameter of the
 * rule's library, so a threshold change cannot leave a wrong number on a card. (The evidence
 * text quotes the studies' own cut-offs, which do not move with a local threshold; those are
 * checked against the evidence figures by the card tests.)
 */
final class CardThresholds {

    private static final Pattern MM = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s?mm\\b");

    private CardThresholds() {}

    static List<CqlMessage> check(List<ServiceDefinition> services, RuleSet rules) {
        List<CqlMessage> problems = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (ServiceDefinition service : services) {
            for (RuleDefinition rule : service.rules()) {
                if (rule.condition() == null || !seen.add(rule.planDefinition() + "#" + rule.ruleId())) {
                    continue;
                }
                RuleLibrary library =
                        rules.library(rule.condition().libraryCanonical()).orElse(null);
                if (library == null) {
                    continue;
                }
                List<BigDecimal> thresholds = millimetreParameters(library);
                for (String text : new String[] {rule.summary(), rule.ruleDisplay()}) {
                    if (text == null) {
                        continue;
                    }
                    Matcher m = MM.matcher(text);
                    while (m.find()) {
                        BigDecimal stated = new BigDecimal(m.group(1));
                        if (thresholds.stream().noneMatch(t -> t.compareTo(stated) == 0)) {
                            problems.add(
                                    new CqlMessage(
                                            CqlMessage.Severity.ERROR,
                                            rule.planDefinition(),
                                            null,
                                            null,
                                            "rule " + rule.ruleId() + " card text \"" + text + "\" states " + m.group()
                                                    + " but " + library.name() + " " + library.version() + " has "
                                                    + (thresholds.isEmpty()
                                                            ? "no millimetre parameter"
                                                            : "millimetre parameter default(s) "
                                                                    + thresholds.stream()
                                                                            .map(BigDecimal::toPlainString)
                                                                            .toList())
                                                    + "; publish the card text with the threshold (a new PlanDefinition version) in the same transaction"));
                        }
                    }
                }
            }
        }
        return problems;
    }

    /** Defaults of the library's parameters whose name says millimetres ("... mm"). */
    static List<BigDecimal> millimetreParameters(RuleLibrary library) {
        List<BigDecimal> values = new ArrayList<>();
        if (library.elm().getParameters() == null) {
            return values;
        }
        for (ParameterDef parameter : library.elm().getParameters().getDef()) {
            if (parameter.getName() == null
                    || !parameter.getName().toLowerCase(java.util.Locale.ROOT).endsWith(" mm")) {
                continue;
            }
            Object value = parameter.getDefault();
            if (value instanceof ToDecimal toDecimal) {
                value = toDecimal.getOperand();
            }
            if (value instanceof Literal literal && literal.getValue() != null) {
                try {
                    values.add(new BigDecimal(literal.getValue()));
                } catch (NumberFormatException e) {
                    // Not a number: nothing to compare with.
                }
            }
        }
        return values;
    }
}
