package org.crlm.cds.rules;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One CQL library's source text, named by its {@code library Name version 'x'} header.
 *
 * @param origin where the text came from (a file name or a Library resource id), for messages
 */
public record CqlSource(String name, String version, String text, String origin) {

    private static final Pattern HEADER = Pattern.compile(
            "^\\s*library\\s+(?:\"([^\"]+)\"|([A-Za-z_][A-Za-z0-9_]*))(?:\\s+version\\s+'([^']+)')?",
            Pattern.MULTILINE);
    private static final Pattern COMMENTS = Pattern.compile("/\\*.*?\\*/|//[^\\n]*", Pattern.DOTALL);

    /** Reads the header; empty when the text has no {@code library} declaration. */
    public static Optional<CqlSource> of(String text, String origin) {
        // Blank comments out (keeping line breaks) so a commented-out header is not taken.
        Matcher comments = COMMENTS.matcher(text);
        StringBuilder code = new StringBuilder();
        while (comments.find()) {
            comments.appendReplacement(
                    code, Matcher.quoteReplacement(comments.group().replaceAll("[^\\n]", " ")));
        }
        comments.appendTail(code);
        Matcher header = HEADER.matcher(code);
        if (!header.find()) {
            return Optional.empty();
        }
        String name = header.group(1) != null ? header.group(1) : header.group(2);
        return Optional.of(new CqlSource(name, header.group(3), text, origin));
    }

    public String key() {
        return name + "|" + version;
    }
}
