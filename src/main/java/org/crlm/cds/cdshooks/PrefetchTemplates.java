package org.crlm.cds.cdshooks;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.crlm.cds.rules.RuleSet;

/**
 * Prefetch template handling: the CDS Hooks 2.0 tokens, and {@code param:in=<ValueSet url>}
 * expanded to the value set's codes (so local codes a site adds to a ValueSet are fetched too).
 */
public final class PrefetchTemplates {

    private static final Pattern TOKEN = Pattern.compile("\\{\\{\\s*([A-Za-z.]+)\\s*}}");
    private static final Pattern IN_PARAM = Pattern.compile("([A-Za-z0-9_\\-]+):in=([^&]+)");

    private PrefetchTemplates() {}

    /** {@code code:in=url1,url2} becomes {@code code=system|code,...}. */
    public static String expandValueSets(String template, RuleSet rules) {
        Matcher m = IN_PARAM.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            List<String> codes = new ArrayList<>();
            for (String url : m.group(2).split(",")) {
                if (!rules.hasValueSet(url)) {
                    throw new IllegalStateException("Prefetch template names unknown ValueSet " + url);
                }
                for (String code : rules.valueSetCodes(url)) {
                    // Commas and bars inside a token value are escaped in FHIR search syntax.
                    String[] parts = code.split("\\|", 2);
                    String escaped = parts[0] + "|"
                            + parts[1].replace("\\", "\\\\").replace(",", "\\,").replace("|", "\\|");
                    if (!codes.contains(escaped)) {
                        codes.add(escaped);
                    }
                }
            }
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + "=" + String.join(",", codes)));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Fills the tokens; empty when a token has no value in this request (then the key cannot be fetched). */
    public static java.util.Optional<String> substitute(String template, HookContext context) {
        Matcher m = TOKEN.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = value(m.group(1), context);
            if (value == null) {
                return java.util.Optional.empty();
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return java.util.Optional.of(out.toString());
    }

    private static String value(String token, HookContext context) {
        String userType = context.userId().substring(0, context.userId().indexOf('/'));
        String userIdPart = context.userId().substring(context.userId().indexOf('/') + 1);
        return switch (token) {
            case "context.patientId" -> context.patientId();
            case "context.userId" -> context.userId();
            case "context.encounterId" -> context.encounterId();
            case "userPractitionerId" -> "Practitioner".equals(userType) ? userIdPart : null;
            case "userPractitionerRoleId" -> "PractitionerRole".equals(userType) ? userIdPart : null;
            case "userPatientId" -> "Patient".equals(userType) ? userIdPart : null;
            case "userRelatedPersonId" -> "RelatedPerson".equals(userType) ? userIdPart : null;
            default -> null;
        };
    }
}
