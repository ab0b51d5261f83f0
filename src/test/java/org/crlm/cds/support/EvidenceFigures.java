package org.crlm.cds.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The numbers a card may quote and the endpoint and study each result belongs to
 * (src/test/resources/evidence-figures.txt, copied from src/docs/evidence.md).
 */
public final class EvidenceFigures {

    private static final Pattern NUMBER = Pattern.compile("(?<![\\w.])\\d+(?:\\.\\d+)?");
    private static final Set<String> ALLOWED = load();
    private static final List<Pairing> PAIRINGS = loadPairings();
    /** A quoted result: a hazard ratio, a p-value or a percentage (not the 95% of a confidence interval). */
    private static final Pattern RESULT =
            Pattern.compile("HR \\d+(?:\\.\\d+)?|p [=<] \\d+(?:\\.\\d+)?|(?<![\\w.])\\d+(?:\\.\\d+)?%(?! CI)");

    private static final Map<String, Pattern> ENDPOINT_WORDS = Map.of(
            "DFS", Pattern.compile("disease-free survival"),
            "LTPFS", Pattern.compile("local tumour progression-free survival"),
            "LTP", Pattern.compile("local tumour progression(?!-free)"),
            "liver-only recurrence", Pattern.compile("liver-only recurrence"));

    /** One line "figure | endpoint | study" of the figures file. */
    public record Pairing(String figure, String endpoint, String study) {}

    private EvidenceFigures() {}

    private static Set<String> load() {
        try (InputStream in = EvidenceFigures.class.getResourceAsStream("/evidence-figures.txt")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.lines()
                    .map(String::trim)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#") && !l.contains("|"))
                    .collect(Collectors.toCollection(TreeSet::new));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Pairing> loadPairings() {
        try (InputStream in = EvidenceFigures.class.getResourceAsStream("/evidence-figures.txt")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.lines()
                    .map(String::trim)
                    .filter(l -> !l.startsWith("#") && l.contains("|"))
                    .map(l -> {
                        String[] parts = l.split("\\|");
                        return new Pairing(parts[0].trim(), parts[1].trim(), parts[2].trim());
                    })
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The results of an evidence paragraph that are not paired with the right endpoint and study:
     * every hazard ratio, p-value and percentage must be a figure of {@code study} whose endpoint
     * the same sentence names.
     */
    public static List<String> mispaired(String paragraph, String study) {
        List<String> problems = new ArrayList<>();
        for (String sentence : paragraph.split("(?<=\\.)\\s+(?=[A-Z])")) {
            Matcher m = RESULT.matcher(sentence);
            while (m.find()) {
                String figure = m.group();
                List<Pairing> candidates =
                        PAIRINGS.stream().filter(p -> p.figure().equals(figure)).toList();
                if (candidates.isEmpty()) {
                    problems.add(figure + ": no endpoint/study pairing on the evidence page");
                } else if (candidates.stream()
                        .noneMatch(p -> p.study().equals(study)
                                && ENDPOINT_WORDS
                                        .get(p.endpoint())
                                        .matcher(sentence)
                                        .find())) {
                    problems.add(
                            figure + " in \"" + sentence + "\" (" + study + "): the page pairs it with " + candidates);
                }
            }
        }
        return problems;
    }

    /** Text without web addresses and DOIs, whose digits are not figures. */
    public static String withoutAddresses(String text) {
        return text.replaceAll("https?://\\S+", " ").replaceAll("doi:\\S+", " ");
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
            if (!ALLOWED.contains(n)
                    && ALLOWED.stream()
                            .noneMatch(a ->
                                    new BigDecimal(a).compareTo(new BigDecimal(n)) == 0 && a.length() == n.length())) {
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
