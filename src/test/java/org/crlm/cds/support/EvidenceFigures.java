package org.crlm.cds.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** The numbers a card may quote (src/test/resources/evidence-figures.txt, copied from shared/EVIDENCE.md). */
public final class EvidenceFigures {

    private static final Pattern NUMBER = Pattern.compile("(?<![\\w.])\\d+(?:\\.\\d+)?");
    private static final Set<String> ALLOWED = load();

    private EvidenceFigures() {
    }

    private static Set<String> load() {
        try (InputStream in = EvidenceFigures.class.getResourceAsStream("/evidence-figures.txt")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.lines().map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .collect(Collectors.toCollection(TreeSet::new));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every number in the text (as written: 51.0 stays 51.0). */
    public static List<String> numbers(String text) {
        List<String> found = new ArrayList<>();
        Matcher m = NUMBER.matcher(text);
        while (m.find()) {
            found.add(m.group());
        }
        return found;
    }

    /** The numbers in the text that are not on the evidence page. */
    public static List<String> notOnEvidencePage(String text) {
        List<String> unknown = new ArrayList<>();
        for (String n : numbers(text)) {
            if (!ALLOWED.contains(n) && ALLOWED.stream().noneMatch(a -> new BigDecimal(a).compareTo(new BigDecimal(n)) == 0
                    && a.length() == n.length())) {
                unknown.add(n);
            }
        }
        return unknown;
    }

    /** The evidence part of a card's detail (after the patient's own facts). */
    public static String evidencePart(String detail) {
        int at = detail.indexOf("**Evidence.**");
        if (at >= 0) {
            return detail.substring(at);
        }
        // A card without an evidence paragraph (GAPS): everything but the patient's own facts.
        if (detail.startsWith("**This patient:**")) {
            int end = detail.indexOf("\n\n");
            return end < 0 ? "" : detail.substring(end);
        }
        return detail;
    }
}
