package org.crlm.cds.authoring;

import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;

/** The console's CodeMirror editor, read and written through CodeMirror's own API (as a paste would). */
final class ConsoleEditor {

    private static final String EDITOR_VIEW = "const done = arguments[arguments.length - 1];"
            + " import('@codemirror/view').then(({EditorView}) => {"
            + " const view = EditorView.findFromDOM(document.getElementById('editor').shadowRoot.querySelector('.cm-editor'));";

    private ConsoleEditor() {}

    static String text(WebDriver browser) {
        return (String) ((JavascriptExecutor) browser)
                .executeAsyncScript(EDITOR_VIEW + " done(view.state.doc.toString()); });");
    }

    /** Replaces the whole text as one edit. */
    static void replaceAll(WebDriver browser, String text) {
        ((JavascriptExecutor) browser)
                .executeAsyncScript(
                        EDITOR_VIEW
                                + " view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: arguments[0]}}); done(); });",
                        text);
    }
}
