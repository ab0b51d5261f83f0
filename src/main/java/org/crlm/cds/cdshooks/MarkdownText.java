package org.crlm.cds.cdshooks;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Text from the patient's record made safe to place in a card's markdown (CDS Hooks 2.0 card
 * {@code detail} is GitHub-flavoured markdown): it shows as the text it is and cannot become a
 * link, an image, HTML, a heading, emphasis, code or a table. Output encoding, not a decision:
 * the words are kept, only the markdown meaning of their characters is taken away.
 */
final class MarkdownText {

    /** Every character with a markdown meaning mid-line (CommonMark allows a backslash before any ASCII punctuation). */
    private static final Pattern SPECIAL = Pattern.compile("[\\\\`*_\\[\\]<>#!|~&]");
    /** Line breaks would start new blocks (headings, lists, quotes): the record's text stays on one line. */
    private static final Pattern LINE_BREAKS = Pattern.compile("\\R+");

    private static final Pattern CONTROL = Pattern.compile("[\\p{Cntrl}&&[^\\t]]");
    /** What GitHub-flavoured markdown turns into a link without brackets: scheme addresses, www. and e-mail. */
    private static final Pattern BARE_LINK = Pattern.compile("(?i)(://|\\bwww\\.|@)");

    private MarkdownText() {}

    static String escape(String text) {
        if (text == null) {
            return null;
        }
        String oneLine =
                CONTROL.matcher(LINE_BREAKS.matcher(text).replaceAll(" ")).replaceAll("");
        String escaped = SPECIAL.matcher(oneLine).replaceAll("\\\\$0");
        return BARE_LINK
                .matcher(escaped)
                .replaceAll(m -> Matcher.quoteReplacement(
                        m.group().startsWith("@") || m.group().startsWith(":")
                                ? "\\" + m.group()
                                : m.group().replace(".", "\\.")));
    }
}
