/*
 * The console's CQL editor: CodeMirror 6 (webjars, bare imports resolved by the import map in
 * index.html) with CQL highlighting, line numbers, undo history, and validation marks (line
 * background, a marker in the gutter, the position underlined) from the /validate call.
 *
 * The editor lives in a shadow root: CodeMirror then installs its styles as constructed style
 * sheets, which the page's Content-Security-Policy allows, instead of <style> elements, which it
 * refuses. Its own look is cql-editor.css, linked inside that root.
 */
import { EditorState, RangeSetBuilder, StateEffect, StateField } from '@codemirror/state';
import {
  Decoration, EditorView, GutterMarker, drawSelection, gutter, gutterLineClass, highlightActiveLine,
  highlightActiveLineGutter, highlightSpecialChars, keymap, lineNumbers,
} from '@codemirror/view';
import { HighlightStyle, StreamLanguage, bracketMatching, syntaxHighlighting } from '@codemirror/language';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { tags } from '@lezer/highlight';

const KEYWORDS = new Set([
  'library', 'using', 'include', 'called', 'codesystem', 'valueset', 'code', 'parameter', 'default',
  'context', 'define', 'function', 'returns', 'if', 'then', 'else', 'case', 'when', 'end', 'and', 'or',
  'not', 'exists', 'in', 'is', 'as', 'with', 'such', 'that', 'where', 'return', 'sort', 'by', 'asc',
  'desc', 'distinct', 'flatten', 'union', 'intersect', 'except', 'null', 'true', 'false',
  'version', 'public', 'private', 'fluid', 'external', 'concept', 'codesystems', 'display', 'let', 'from',
  'without', 'all', 'xor', 'implies', 'between', 'collapse', 'expand', 'ascending', 'descending',
]);

function quoted(stream, quote) {
  stream.next();
  let escaped = false;
  for (let c = stream.next(); c !== undefined && c !== null; c = stream.next()) {
    if (c === quote && !escaped) return;
    escaped = !escaped && c === '\\';
  }
}

/** CQL tokens: comments, 'strings', "quoted identifiers" and `identifiers`, numbers, keywords. */
const cql = StreamLanguage.define({
  name: 'cql',
  startState: () => ({ inComment: false }),
  token(stream, state) {
    if (state.inComment) {
      if (stream.skipTo('*/')) {
        stream.pos += 2;
        state.inComment = false;
      } else {
        stream.skipToEnd();
      }
      return 'comment';
    }
    if (stream.eatSpace()) return null;
    if (stream.match('//')) {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.match('/*')) {
      state.inComment = true;
      return 'comment';
    }
    const ch = stream.peek();
    if (ch === "'") {
      quoted(stream, ch);
      return 'string';
    }
    if (ch === '"' || ch === '`') {
      quoted(stream, ch);
      return 'atom';
    }
    if (stream.match(/^\d+(?:\.\d+)?/)) return 'number';
    if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) return KEYWORDS.has(stream.current()) ? 'keyword' : null;
    stream.next();
    return null;
  },
  languageData: { commentTokens: { line: '//', block: { open: '/*', close: '*/' } } },
});

const cqlHighlight = HighlightStyle.define([
  { tag: tags.keyword, class: 'tok-kw' },
  { tag: tags.string, class: 'tok-str' },
  { tag: tags.atom, class: 'tok-id' },
  { tag: tags.number, class: 'tok-num' },
  { tag: tags.comment, class: 'tok-com' },
]);

/* ------------------------------------------------------------ validation marks */

class IssueMarker extends GutterMarker {
  constructor(severity, messages) {
    super();
    this.severity = severity;
    this.messages = messages;
  }

  eq(other) {
    return other.severity === this.severity && other.messages.join('\n') === this.messages.join('\n');
  }

  toDOM() {
    const span = document.createElement('span');
    span.className = `issue-marker issue-marker-${this.severity}`;
    span.title = this.messages.join('\n');
    span.textContent = this.severity === 'error' ? '●' : '▲';
    return span;
  }
}

const lineClass = {
  error: new (class extends GutterMarker { get elementClass() { return 'ln-error'; } })(),
  warning: new (class extends GutterMarker { get elementClass() { return 'ln-warning'; } })(),
};

const setIssues = StateEffect.define();

function buildMarks(doc, issues) {
  const byLine = new Map();
  for (const issue of issues) {
    const n = Number(issue.line);
    if (!Number.isInteger(n) || n < 1 || n > doc.lines) continue;
    if (!byLine.has(n)) byLine.set(n, []);
    byLine.get(n).push(issue);
  }
  const lines = new RangeSetBuilder();
  const gutterMarkers = new RangeSetBuilder();
  const lineClasses = new RangeSetBuilder();
  const underlines = [];
  for (const n of [...byLine.keys()].sort((a, b) => a - b)) {
    const line = doc.line(n);
    const list = byLine.get(n);
    const severity = list.some((i) => i.severity === 'error') ? 'error' : 'warning';
    const messages = list.map((i) => i.message);
    lines.add(line.from, line.from, Decoration.line({ class: `cm-issue-line cm-issue-line-${severity}`, attributes: { 'data-line': String(n) } }));
    gutterMarkers.add(line.from, line.from, new IssueMarker(severity, messages));
    lineClasses.add(line.from, line.from, lineClass[severity]);
    for (const issue of list) {
      const col = Number(issue.column);
      if (!Number.isInteger(col) || col < 1 || col > line.length) continue;
      const from = line.from + col - 1;
      const word = /^(?:"[^"]*"?|[A-Za-z0-9_]+|\S)/.exec(line.text.slice(col - 1));
      const to = from + (word ? word[0].length : 1);
      underlines.push(Decoration.mark({ class: `cm-issue-mark cm-issue-mark-${issue.severity}`, attributes: { title: issue.message } })
        .range(from, to));
    }
  }
  return {
    lines: lines.finish(),
    underlines: Decoration.set(underlines, true),
    gutter: gutterMarkers.finish(),
    lineClasses: lineClasses.finish(),
  };
}

const issuesField = StateField.define({
  create: (state) => buildMarks(state.doc, []),
  update(marks, tr) {
    for (const effect of tr.effects) {
      if (effect.is(setIssues)) return buildMarks(tr.state.doc, effect.value);
    }
    if (!tr.docChanged) return marks;
    return {
      lines: marks.lines.map(tr.changes),
      underlines: marks.underlines.map(tr.changes),
      gutter: marks.gutter.map(tr.changes),
      lineClasses: marks.lineClasses.map(tr.changes),
    };
  },
  provide: (field) => [
    EditorView.decorations.from(field, (marks) => marks.lines),
    EditorView.decorations.from(field, (marks) => marks.underlines),
    gutterLineClass.from(field, (marks) => marks.lineClasses),
  ],
});

const issueGutter = gutter({
  class: 'cm-issue-gutter',
  markers: (view) => view.state.field(issuesField).gutter,
});

/* ------------------------------------------------------------ the editor */

/**
 * Creates the editor inside host (an empty element). onChange(text) after each edit; onCursor(line,
 * column) when the selection moves. Returns {text, setText, setIssues, goTo, focus, view}.
 */
export function createCqlEditor(host, { label, onChange, onCursor }) {
  const root = host.attachShadow({ mode: 'open' });
  const style = document.createElement('link');
  style.rel = 'stylesheet';
  style.href = new URL('cql-editor.css', import.meta.url).href;
  root.append(style);

  const cursor = (state) => {
    const head = state.selection.main.head;
    const line = state.doc.lineAt(head);
    return [line.number, head - line.from + 1];
  };

  const extensions = [
    lineNumbers(),
    issueGutter,
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    highlightActiveLine(),
    bracketMatching(),
    cql,
    syntaxHighlighting(cqlHighlight),
    issuesField,
    keymap.of([...defaultKeymap, ...historyKeymap]),
    EditorView.contentAttributes.of({ 'aria-label': label, spellcheck: 'false' }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) onChange(update.state.doc.toString());
      if (update.docChanged || update.selectionSet || update.focusChanged) onCursor(...cursor(update.state));
    }),
  ];
  const view = new EditorView({ root, parent: root, state: EditorState.create({ doc: '', extensions }) });

  return {
    view,
    text: () => view.state.doc.toString(),
    /** Replaces the whole text (a newly opened library): not an edit, so no onChange and no undo step. */
    setText(text) {
      view.setState(EditorState.create({ doc: text, extensions }));
      onCursor(1, 1);
    },
    setIssues(issues) {
      view.dispatch({ effects: setIssues.of(issues) });
    },
    goTo(line, column) {
      const doc = view.state.doc;
      const ln = doc.line(Math.min(Math.max(1, Number(line) || 1), doc.lines));
      const pos = ln.from + Math.min(Math.max(1, Number(column) || 1), ln.length + 1) - 1;
      view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: 'center' }) });
      view.focus();
    },
    focus: () => view.focus(),
  };
}
