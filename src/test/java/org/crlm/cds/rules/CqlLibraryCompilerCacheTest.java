package org.crlm.cds.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.cqframework.cql.cql2elm.model.CompiledLibrary;
import org.hl7.elm.r1.ExpressionDef;
import org.junit.jupiter.api.Test;

/**
 * The cache of translated libraries, as the console uses it: every pause in an informatician's
 * typing validates a new draft. The cache stays within its bound, never serves one draft's
 * translation for another, and re-translates a library whose include changed.
 */
class CqlLibraryCompilerCacheTest {

    @Test
    void twoDraftsWhoseStringHashCodesCollideAreEachTranslated() {
        CqlSource first = draft("Draft", "define \"Aa\": 1");
        CqlSource second = draft("Draft", "define \"BB\": 1");
        assertThat(first.text().hashCode())
                .as("precondition: String.hashCode collides")
                .isEqualTo(second.text().hashCode());
        assertThat(first.text()).hasSameSizeAs(second.text());
        CqlLibraryCompiler compiler = new CqlLibraryCompiler();

        CompilationResult before = compiler.compile(List.of(first));
        CompilationResult after = compiler.compile(List.of(second));

        assertThat(before.ok()).isTrue();
        assertThat(after.ok()).isTrue();
        assertThat(definitions(before)).contains("Aa").doesNotContain("BB");
        assertThat(definitions(after))
                .as("the second draft gets its own translation")
                .contains("BB")
                .doesNotContain("Aa");
        assertThat(compiler.translations()).isEqualTo(2);
        assertThat(compiler.cachedLibraries()).isEqualTo(2);
    }

    @Test
    void anUnchangedLibraryIsNotTranslatedAgain() {
        CqlLibraryCompiler compiler = new CqlLibraryCompiler();
        CqlSource source = draft("Unchanged", "define \"Answer\": 42");

        compiler.compile(List.of(source));
        compiler.compile(List.of(new CqlSource(source.name(), source.version(), source.text(), "another origin")));

        assertThat(compiler.translations())
                .as("cql_translations_total counts translations, not compile calls")
                .isEqualTo(1);
    }

    @Test
    void draftsBeyondTheBoundAreEvictedAndTranslatedAgainWhenNeeded() {
        int bound = 2;
        CqlLibraryCompiler compiler = new CqlLibraryCompiler(bound);
        List<CqlSource> drafts = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            drafts.add(draft("Draft", "define \"Value\": " + i));
        }

        for (CqlSource draft : drafts) {
            assertThat(compiler.compile(List.of(draft)).ok()).isTrue();
            assertThat(compiler.cachedLibraries()).isLessThanOrEqualTo(bound);
        }
        assertThat(compiler.translations()).isEqualTo(6);

        for (CqlSource draft : drafts) {
            compiler.compile(List.of(draft));
        }
        assertThat(compiler.cachedLibraries()).isLessThanOrEqualTo(bound);
        assertThat(compiler.translations())
                .as("at most %d of the 6 drafts were still cached", bound)
                .isGreaterThanOrEqualTo(6 + 6 - bound);
    }

    @Test
    void aLibraryIsTranslatedAgainWhenALibraryItIncludesChanged() {
        CqlLibraryCompiler compiler = new CqlLibraryCompiler();
        CqlSource main = draft("Main", "include Helper version '1.0.0'\ndefine \"Uses\": Helper.\"Shared\"");
        CqlSource helper = draft("Helper", "define \"Shared\": 1");
        assertThat(compiler.compile(List.of(helper, main)).ok()).isTrue();

        CqlSource helperWithoutShared = draft("Helper", "define \"Renamed\": 1");
        CompilationResult result = compiler.compile(List.of(helperWithoutShared, main));

        assertThat(result.ok())
                .as("Main refers to a definition its include no longer has")
                .isFalse();
        assertThat(result.errors()).anySatisfy(e -> assertThat(e.library()).isEqualTo("Main"));
        assertThat(compiler.translations()).isEqualTo(4);
    }

    private static CqlSource draft(String name, String body) {
        String text = "library " + name + " version '1.0.0'\n\n" + body + "\n";
        return CqlSource.of(text, name + ".cql").orElseThrow();
    }

    private static List<String> definitions(CompilationResult result) {
        List<String> names = new ArrayList<>();
        for (CompiledLibrary library : result.libraries().values()) {
            for (ExpressionDef def : library.getLibrary().getStatements().getDef()) {
                names.add(def.getName());
            }
        }
        return names;
    }
}
