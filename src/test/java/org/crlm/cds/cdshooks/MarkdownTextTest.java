package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A record's text on a card reads as the text it is, whatever markdown it contains. */
class MarkdownTextTest {

    @Test
    void linksImagesHtmlAndHeadingsFromTheRecordAreShownAsText() {
        String escaped =
                MarkdownText.escape("[click](javascript:alert(1)) ![x](http://evil/) <script>x</script>\n# heading");

        assertThat(escaped)
                .isEqualTo("\\[click\\](javascript:alert(1)) \\!\\[x\\](http\\://evil/) "
                        + "\\<script\\>x\\</script\\> \\# heading");
    }

    @Test
    void emphasisCodeTablesEntitiesAndBareLinksLoseTheirMeaning() {
        assertThat(MarkdownText.escape("*a* _b_ `c` |d| ~~e~~ &lt; www.evil.example x@evil.example \\"))
                .isEqualTo(
                        "\\*a\\* \\_b\\_ \\`c\\` \\|d\\| \\~\\~e\\~\\~ \\&lt; www\\.evil.example x\\@evil.example \\\\");
    }

    @Test
    void ordinaryClinicalTextIsUnchanged() {
        assertThat(MarkdownText.escape("KRAS p.(Gly12Asp) (mutated), final 2024-05-02; 2 lesions: 22 mm, 18 mm."))
                .isEqualTo("KRAS p.(Gly12Asp) (mutated), final 2024-05-02; 2 lesions: 22 mm, 18 mm.");
    }

    @Test
    void lineBreaksAndControlCharactersCannotStartANewBlock() {
        assertThat(MarkdownText.escape("lesion\r\n> quote\n\n- item\u0007")).isEqualTo("lesion \\> quote - item");
    }
}
