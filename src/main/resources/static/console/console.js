/*
 * CRLM ablation rules console: overview of services/rules, a CQL editor with live validation and
 * publishing through the FHIR API, and a "try a patient" runner. An ES module without a build step:
 * the editor is CodeMirror 6 (cql-editor.js), card markdown goes through markdown-it and DOMPurify
 * (webjars, loaded as classic scripts before this module runs). API contract: notes/console-api.md.
 */
import { createCqlEditor } from './cql-editor.js';

(() => {
  const TOKEN_KEY = 'crlm-console-token';
  const SIGN_IN = 'Sign-in needed: paste an access token with the authoring scope';
  const VALIDATE_DELAY_MS = 600;
  const HEADER_RE = /library\s+("?)([A-Za-z0-9_]+)\1\s+version\s+'([^']+)'/;
  const EXT_LINE = 'http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line';
  const EXT_COL = 'http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col';
  const INDICATORS = ['info', 'warning', 'critical'];

  const $ = (sel) => document.querySelector(sel);
  const el = {};
  let editor = null;

  const state = {
    overview: null,
    services: [],
    library: null,           // {name, version, url, resourceId} of the library in the editor
    validation: 'idle',      // idle | pending | ok | errors | failed
    validateTimer: null,
    validateSeq: 0,
    validationIssues: [],    // {line, column, message, severity} in the edited library, from /validate
    publishIssues: [],       // the same, from a 422 on publish
    publishing: false,
    running: false,
    overviewSeq: 0,
    history: null,           // {type, id} of the resource whose versions are shown
    historySeq: 0,
  };

  /* ------------------------------------------------------------------ helpers */

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === 'class') node.className = value;
        else if (key === 'text') node.textContent = value;
        else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? '' : String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function isHttpUrl(url) {
    return typeof url === 'string' && /^https?:\/\/[^\s]+$/i.test(url);
  }

  function externalLink(href, text) {
    return h('a', { href, target: '_blank', rel: 'noopener noreferrer' },
      text, h('span', { class: 'visually-hidden' }, ' (opens in a new tab)'));
  }

  function lastSegment(url) {
    if (!url) return '';
    const noVersion = String(url).split('|')[0];
    const parts = noVersion.split('/').filter(Boolean);
    return parts.length ? parts[parts.length - 1] : noVersion;
  }

  function formatRate(rate) {
    if (rate === null || rate === undefined || Number.isNaN(Number(rate))) return '—';
    return `${Math.round(Number(rate) * 1000) / 10}%`;
  }

  function pluralize(n, one, many) {
    return `${n} ${n === 1 ? one : many}`;
  }

  /*
   * Card detail is CommonMark rendered by markdown-it with raw HTML off (HTML in the text stays
   * text), then sanitised by DOMPurify to the few elements a card needs, then every link is made an
   * external http(s) link or reduced to its text. Images are off: a card never loads anything.
   */
  const DETAIL_TAGS = ['p', 'br', 'strong', 'em', 'a', 'ul', 'ol', 'li', 'code', 'blockquote'];
  let markdown = null;

  function markdownRenderer() {
    if (!markdown) {
      markdown = window.markdownit({ html: false, linkify: false, typographer: false, breaks: true })
        .disable(['image', 'heading', 'lheading', 'table', 'code', 'fence', 'hr', 'html_block', 'html_inline']);
    }
    return markdown;
  }

  /** Card markdown → a sanitised DocumentFragment (never an HTML string assigned to innerHTML). */
  function renderMarkdown(source) {
    const text = String(source ?? '').replace(/\u0000/g, '').trim();
    if (!text) return document.createDocumentFragment();
    const fragment = window.DOMPurify.sanitize(markdownRenderer().render(text), {
      ALLOWED_TAGS: DETAIL_TAGS,
      ALLOWED_ATTR: ['href'],
      RETURN_DOM_FRAGMENT: true,
    });
    for (const a of fragment.querySelectorAll('a')) {
      const href = a.getAttribute('href');
      if (isHttpUrl(href)) {
        a.setAttribute('target', '_blank');
        a.setAttribute('rel', 'noopener noreferrer');
        a.append(h('span', { class: 'visually-hidden' }, ' (opens in a new tab)'));
      } else {
        a.replaceWith(...a.childNodes);
      }
    }
    return fragment;
  }

  function base64Utf8(text) {
    const bytes = new TextEncoder().encode(text);
    let binary = '';
    const chunk = 0x8000;
    for (let i = 0; i < bytes.length; i += chunk) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
    }
    return btoa(binary);
  }

  function baseContentType(ct) {
    return String(ct || '').split(';')[0].trim().toLowerCase();
  }

  /* ------------------------------------------------------------------ HTTP */

  function token() {
    return el.token.value.trim();
  }

  /**
   * fetch with the optional bearer token. Never throws: returns {status, ok, data, networkError}.
   * status 0 means the server could not be reached.
   */
  async function api(path, { method = 'GET', body, headers = {} } = {}) {
    const hdrs = { Accept: 'application/json', ...headers };
    const t = token();
    if (t) hdrs.Authorization = `Bearer ${t}`;
    let payload = body;
    if (body !== undefined && typeof body !== 'string') {
      payload = JSON.stringify(body);
      if (!hdrs['Content-Type']) hdrs['Content-Type'] = 'application/json';
    }
    let res;
    try {
      res = await fetch(path, { method, headers: hdrs, body: payload, credentials: 'same-origin', cache: 'no-store' });
    } catch (e) {
      return { status: 0, ok: false, data: null, networkError: e && e.message ? e.message : String(e) };
    }
    let data = null;
    try {
      const text = await res.text();
      if (text) {
        try { data = JSON.parse(text); } catch { data = text; }
      }
    } catch { /* body unreadable: keep null */ }
    if (res.status === 401 || res.status === 403) setAuthMessage(true);
    else if (res.ok) setAuthMessage(false);
    return { status: res.status, ok: res.ok, data };
  }

  function isAuthFailure(result) {
    return result.status === 401 || result.status === 403;
  }

  function outcomeIssues(data) {
    if (data && typeof data === 'object' && data.resourceType === 'OperationOutcome' && Array.isArray(data.issue)) {
      return data.issue;
    }
    return [];
  }

  function issueText(issue) {
    return issue.diagnostics
      || (issue.details && (issue.details.text || (issue.details.coding || []).map((c) => c.display || c.code).join(', ')))
      || issue.code
      || 'Unknown problem';
  }

  /** One-line (or few-line) human message for a failed call. */
  function failureMessages(result) {
    if (isAuthFailure(result)) return [SIGN_IN];
    if (result.status === 0) return [`Could not reach the server${result.networkError ? `: ${result.networkError}` : ''}.`];
    const issues = outcomeIssues(result.data);
    if (issues.length) return issues.map(issueText);
    const d = result.data;
    if (d && typeof d === 'object') {
      const msg = d.message || d.error || d.detail || d.title;
      if (msg) return [`HTTP ${result.status}: ${msg}`];
    }
    if (typeof d === 'string' && d.trim() && d.length < 500 && !/^\s*</.test(d)) return [`HTTP ${result.status}: ${d.trim()}`];
    return [`HTTP ${result.status}`];
  }

  function setAuthMessage(show) {
    el.authMessage.textContent = show ? SIGN_IN : '';
  }

  /* ------------------------------------------------------------------ overview */

  async function loadOverview() {
    const seq = ++state.overviewSeq;
    el.overviewStatus.textContent = 'Loading…';
    const result = await api('/console/api/overview');
    if (seq !== state.overviewSeq) return;
    if (!result.ok || !result.data || typeof result.data !== 'object') {
      const msgs = failureMessages(result);
      el.overviewStatus.textContent = '';
      el.services.replaceChildren(h('p', { class: 'error-text' }, msgs.join(' ')));
      el.libraries.replaceChildren();
      return;
    }
    el.overviewStatus.textContent = '';
    state.overview = result.data;
    state.services = Array.isArray(result.data.services) ? result.data.services : [];
    el.generation.textContent = result.data.generation ?? '–';
    renderServices(result.data);
    renderLibraries(result.data.libraries || []);
    renderServiceOptions();
  }

  function indicatorForPriority(priority) {
    switch (priority) {
      case 'urgent': return 'warning';
      case 'asap':
      case 'stat': return 'critical';
      default: return 'info';
    }
  }

  function badge(indicator) {
    const ind = INDICATORS.includes(indicator) ? indicator : 'info';
    return h('span', { class: `badge badge-${ind}` }, ind);
  }

  function libraryNameForUrl(url) {
    const libs = (state.overview && state.overview.libraries) || [];
    const base = String(url || '').split('|')[0];
    const found = libs.find((l) => l.url === base);
    return found ? found.name : lastSegment(base);
  }

  /** Author, reviewer, approval, last review, effective period and cited studies of a rule. */
  function governanceText(g) {
    if (!g) return h('span', { class: 'muted' }, 'not recorded');
    const list = (xs) => (Array.isArray(xs) && xs.length ? xs.join('; ') : '—');
    const citations = (Array.isArray(g.citations) ? g.citations : []).map((c, i) => [
      i ? ', ' : '',
      isHttpUrl(c.url) ? h('a', { href: c.url, rel: 'noopener noreferrer', target: '_blank' }, c.label || c.display || c.url)
        : (c.label || c.display || ''),
    ]).flat();
    return h('div', { class: 'governance-block' },
      h('div', null, 'Author: ', list(g.authors)),
      h('div', null, 'Reviewer: ', list(g.reviewers)),
      h('div', null, 'Approved ', g.approvalDate || '—', ' · last review ', g.lastReviewDate || '—'),
      h('div', null, 'Effective ', g.effectiveFrom || '—', g.effectiveTo ? ` to ${g.effectiveTo}` : ' (open-ended)'),
      h('div', null, 'Sources: ', ...(citations.length ? citations : ['—'])));
  }

  function renderServices(overview) {
    const feedback = Array.isArray(overview.feedback) ? overview.feedback : [];
    const services = Array.isArray(overview.services) ? overview.services : [];
    if (!services.length) {
      el.services.replaceChildren(h('p', { class: 'hint' }, 'No services are defined.'));
      return;
    }
    const blocks = services.map((service, i) => {
      const headingId = `service-h-${i}`;
      const rules = Array.isArray(service.rules) ? service.rules : [];
      const rows = rules.map((rule) => {
        const fb = feedback.find((f) => f.ruleId === rule.ruleId && f.libraryVersion === rule.libraryVersion);
        const indicator = indicatorForPriority(rule.priority);
        return h('tr', { 'data-rule': rule.ruleId },
          h('th', { scope: 'row', class: 'rule-id' }, rule.ruleId),
          h('td', null, rule.title || ''),
          h('td', null, badge(indicator), rule.priority ? h('span', { class: 'muted' }, ` (${rule.priority})`) : null),
          h('td', null, libraryNameForUrl(rule.library), ' ', h('span', { class: 'muted' }, rule.libraryVersion || '')),
          h('td', { class: 'num' }, fb ? fb.issued ?? 0 : 0),
          h('td', { class: 'num' }, fb ? fb.accepted ?? 0 : 0),
          h('td', { class: 'num' }, fb ? fb.overridden ?? 0 : 0),
          h('td', { class: 'num' }, fb ? formatRate(fb.overrideRate) : '—'),
          h('td', { class: 'governance' }, governanceText(rule.governance)));
      });
      const table = rules.length
        ? h('div', { class: 'table-wrap' },
          h('table', { class: 'data-table rules-table', 'aria-labelledby': headingId },
            h('thead', null, h('tr', null,
              h('th', { scope: 'col' }, 'Rule'),
              h('th', { scope: 'col' }, 'Card title'),
              h('th', { scope: 'col' }, 'Indicator'),
              h('th', { scope: 'col' }, 'Library'),
              h('th', { scope: 'col', class: 'num' }, 'Issued'),
              h('th', { scope: 'col', class: 'num' }, 'Accepted'),
              h('th', { scope: 'col', class: 'num' }, 'Overridden'),
              h('th', { scope: 'col', class: 'num' }, 'Override rate'),
              h('th', { scope: 'col' }, 'Governance'))),
            h('tbody', null, rows)))
        : h('p', { class: 'hint' }, 'No rules.');
      return h('section', { class: 'service', 'data-service': service.id, 'aria-labelledby': headingId },
        h('h3', { id: headingId }, service.title || service.id),
        h('p', { class: 'service-meta' }, 'Hook ', h('code', null, service.hook || '?'),
          ' · service id ', h('code', null, service.id || '?'),
          ' · ', pluralize(rules.length, 'rule', 'rules')),
        table);
    });
    el.services.replaceChildren(
      h('p', { class: 'hint' }, 'Feedback counts are for the rule at the library version shown.'),
      ...blocks);
  }

  function renderLibraries(libraries) {
    if (!libraries.length) {
      el.libraries.replaceChildren(h('li', { class: 'hint' }, 'No libraries.'));
      return;
    }
    el.libraries.replaceChildren(...libraries.map((lib) => h('li', null,
      h('button', {
        type: 'button',
        'data-library': lib.name,
        'aria-current': state.library && state.library.name === lib.name ? 'true' : null,
        onclick: () => openLibrary(lib.name),
      }, lib.name, h('span', { class: 'library-version' }, lib.version || '')))));
  }

  function markCurrentLibrary() {
    for (const btn of el.libraries.querySelectorAll('button[data-library]')) {
      if (state.library && btn.dataset.library === state.library.name) btn.setAttribute('aria-current', 'true');
      else btn.removeAttribute('aria-current');
    }
  }

  /* ------------------------------------------------------------------ editor */

  function showIssues() {
    editor.setIssues([...state.validationIssues, ...state.publishIssues]);
  }

  function showCursor(line, column) {
    el.cursorPos.textContent = `Line ${line}, column ${column}`;
  }

  function goToLine(line, column) {
    editor.goTo(line, column);
  }

  function onEditorChange() {
    if (state.publishIssues.length) {
      state.publishIssues = [];
      showIssues();
    }
    scheduleValidation();
  }

  function editorTitle() {
    if (!state.library) {
      el.editorTitle.textContent = 'No library open. Choose one under “Libraries”.';
      return;
    }
    el.editorTitle.replaceChildren('Editing ', h('strong', null, state.library.name),
      ` (stored version ${state.library.version || '?'})`);
  }

  async function openLibrary(name) {
    el.editorTitle.textContent = `Opening ${name}…`;
    const result = await api(`/console/api/libraries/${encodeURIComponent(name)}`);
    if (!result.ok || !result.data || typeof result.data !== 'object') {
      const msg = result.status === 404 ? `Library ${name} was not found.` : failureMessages(result).join(' ');
      editorTitle();
      el.editorTitle.append(' ', h('span', { class: 'error-text' }, msg));
      return;
    }
    const lib = result.data;
    state.library = { name: lib.name || name, version: lib.version, url: lib.url, resourceId: lib.resourceId || lib.name || name };
    editorTitle();
    markCurrentLibrary();
    editor.setText(lib.cql || '');
    state.validationIssues = [];
    state.publishIssues = [];
    el.publishResult.className = 'publish-result';
    el.publishResult.replaceChildren();
    validateNow();
  }

  /* ------------------------------------------------------------------ validation */

  function setValidationPending() {
    state.validation = 'pending';
    el.validation.classList.remove('ok', 'has-errors');
    el.validation.replaceChildren(h('p', { class: 'validation-summary' }, 'Checking…'));
    updatePublishButton();
  }

  function scheduleValidation() {
    clearTimeout(state.validateTimer);
    state.validateSeq++; // any answer still in flight is now stale
    setValidationPending();
    state.validateTimer = setTimeout(validateNow, VALIDATE_DELAY_MS);
  }

  async function validateNow() {
    clearTimeout(state.validateTimer);
    const seq = ++state.validateSeq;
    const cql = editor.text();
    setValidationPending();
    const result = await api('/console/api/validate', { method: 'POST', body: { cql } });
    if (seq !== state.validateSeq) return; // superseded by newer input
    if (!result.ok || !result.data || typeof result.data !== 'object') {
      state.validation = 'failed';
      state.validationIssues = [];
      el.validation.classList.remove('ok', 'has-errors');
      el.validation.replaceChildren(
        h('p', { class: 'validation-summary error-text' }, 'Could not check the CQL: ', failureMessages(result).join(' ')));
      showIssues();
      updatePublishButton();
      return;
    }
    renderValidation(result.data);
  }

  function issueLabel(issue, editedName) {
    const prefix = issue.library && issue.library !== editedName ? `${issue.library}: ` : '';
    if (issue.line === null || issue.line === undefined) return `${prefix}${issue.message || ''}`;
    const where = issue.column === null || issue.column === undefined
      ? `Line ${issue.line}` : `Line ${issue.line}, column ${issue.column}`;
    return `${prefix}${where}: ${issue.message || ''}`;
  }

  function issueItem(issue, cls, editedName) {
    const text = issueLabel(issue, editedName);
    const hasLine = issue.line !== null && issue.line !== undefined;
    const inEdited = !issue.library || issue.library === editedName;
    const attrs = { class: cls, 'data-line': hasLine ? issue.line : null, 'data-library': issue.library || null };
    if (hasLine && inEdited) {
      return h('li', attrs, h('button', {
        type: 'button', class: 'link-button', title: 'Go to this line in the editor',
        onclick: () => goToLine(issue.line, issue.column),
      }, text));
    }
    return h('li', attrs, text);
  }

  function renderValidation(data) {
    const errors = Array.isArray(data.errors) ? data.errors : [];
    const warnings = Array.isArray(data.warnings) ? data.warnings : [];
    const headerMatch = HEADER_RE.exec(editor.text());
    const editedName = data.library || (state.library && state.library.name) || (headerMatch && headerMatch[2]) || '';
    const ok = data.ok === true && errors.length === 0;

    const inEdited = (issue) => issue.line !== null && issue.line !== undefined
      && (!issue.library || issue.library === editedName);
    const mark = (severity) => (issue) => ({ line: issue.line, column: issue.column, message: issue.message || '', severity });
    state.validationIssues = [
      ...errors.filter(inEdited).map(mark('error')),
      ...warnings.filter(inEdited).map(mark('warning')),
    ];

    const children = [];
    if (ok) {
      children.push(h('p', { class: 'validation-summary' }, 'No errors'));
    } else {
      children.push(h('p', { class: 'validation-summary' },
        errors.length ? pluralize(errors.length, 'error', 'errors') : 'Not valid'));
      if (errors.length) {
        children.push(h('ul', { class: 'issue-list', 'aria-label': 'Errors' },
          errors.map((e) => issueItem(e, 'cql-error', editedName))));
      }
    }
    if (warnings.length) {
      children.push(h('p', { class: 'issue-heading' }, pluralize(warnings.length, 'warning', 'warnings')));
      children.push(h('ul', { class: 'issue-list', 'aria-label': 'Warnings' },
        warnings.map((w) => issueItem(w, 'cql-warning', editedName))));
    }

    state.validation = ok ? 'ok' : 'errors';
    el.validation.classList.toggle('ok', ok);
    el.validation.classList.toggle('has-errors', !ok);
    el.validation.replaceChildren(...children);
    showIssues();
    updatePublishButton();
  }

  /* ------------------------------------------------------------------ publish */

  function publishTarget() {
    if (state.library) return state.library;
    const m = HEADER_RE.exec(editor.text());
    const libs = (state.overview && state.overview.libraries) || [];
    if (m) {
      const found = libs.find((l) => l.name === m[2]);
      if (found) return { name: found.name, version: found.version, url: found.url, resourceId: found.resourceId || found.name };
    }
    return null;
  }

  function updatePublishButton() {
    el.publish.disabled = state.publishing || state.validation !== 'ok' || !editor.text().trim();
    el.previewImpact.disabled = state.publishing || state.validation !== 'ok' || !editor.text().trim();
  }

  function showPublishMessage(cls, ...nodes) {
    el.publishResult.className = `publish-result ${cls}`;
    el.publishResult.replaceChildren(...nodes);
  }

  async function publish() {
    const cql = editor.text();
    const header = HEADER_RE.exec(cql);
    if (!header) {
      showPublishMessage('failed', h('p', null,
        "Not published: the CQL needs a header like library Name version '1.0.1'."));
      return;
    }
    const [, , headerName, headerVersion] = header;
    const target = publishTarget();
    if (!target) {
      showPublishMessage('failed', h('p', null, 'Not published: open a library from the list first.'));
      return;
    }

    state.publishing = true;
    updatePublishButton();
    showPublishMessage('', h('p', null, `Publishing ${headerName} ${headerVersion}…`));
    state.publishIssues = [];
    showIssues();

    const path = `/fhir/Library/${encodeURIComponent(target.resourceId)}`;
    try {
      const got = await api(path, { headers: { Accept: 'application/fhir+json' } });
      if (!got.ok || !got.data || typeof got.data !== 'object' || got.data.resourceType !== 'Library') {
        const msgs = got.ok ? ['The server did not return a Library.'] : failureMessages(got);
        showPublishMessage('failed', h('p', null, `Not published: could not read Library/${target.resourceId}.`),
          h('ul', { class: 'issue-list' }, msgs.map((m) => h('li', null, m))));
        return;
      }

      const library = got.data;
      library.version = headerVersion;
      const newCql = { contentType: 'text/cql', data: base64Utf8(cql) };
      const content = [];
      let placed = false;
      for (const att of Array.isArray(library.content) ? library.content : []) {
        const ct = baseContentType(att && att.contentType);
        if (ct === 'application/elm+json') continue;
        if (ct === 'text/cql') {
          if (!placed) { content.push(newCql); placed = true; }
          continue;
        }
        content.push(att);
      }
      if (!placed) content.push(newCql);
      library.content = content;

      const put = await api(path, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json' },
        body: JSON.stringify(library),
      });

      if (put.status === 200 || put.status === 201) {
        showPublishMessage('ok', h('p', null, `Published ${headerName} ${headerVersion}`));
        state.library = { ...target, version: headerVersion };
        editorTitle();
        loadOverview();
        return;
      }
      if (put.status === 422) {
        const issues = outcomeIssues(put.data);
        const items = issues.map((issue) => {
          const ext = Array.isArray(issue.extension) ? issue.extension : [];
          const lineExt = ext.find((x) => x.url === EXT_LINE);
          const colExt = ext.find((x) => x.url === EXT_COL);
          const line = lineExt ? lineExt.valueInteger : null;
          const col = colExt ? colExt.valueInteger : null;
          const text = issueText(issue);
          if (line !== null && line !== undefined) {
            const n = Number(line);
            state.publishIssues.push({ line: n, column: col, message: text, severity: 'error' });
            return h('li', { class: 'publish-issue', 'data-line': n },
              h('button', { type: 'button', class: 'link-button', title: 'Go to this line in the editor',
                onclick: () => goToLine(n, col) }, text));
          }
          return h('li', { class: 'publish-issue' }, text);
        });
        showIssues();
        showPublishMessage('has-errors',
          h('p', null, h('strong', null, `Not published: the server rejected ${headerName} ${headerVersion}.`)),
          items.length ? h('ul', { class: 'issue-list' }, items) : h('p', null, failureMessages(put).join(' ')));
        return;
      }
      const msgs = failureMessages(put);
      showPublishMessage('failed', h('p', null, h('strong', null, 'Not published.')),
        h('ul', { class: 'issue-list' }, msgs.map((m) => h('li', null, m))));
    } finally {
      state.publishing = false;
      updatePublishButton();
    }
  }

  /* ------------------------------------------------------------------ try a patient */

  function selectedService() {
    return state.services.find((s) => s.id === el.runService.value) || null;
  }

  function isOrderHook(service) {
    return !!service && typeof service.hook === 'string' && service.hook.startsWith('order-');
  }

  function renderServiceOptions() {
    const previous = el.runService.value;
    const options = state.services.map((s) => h('option', { value: s.id },
      `${s.title || s.id} (${s.hook || '?'})`));
    el.runService.replaceChildren(...options);
    if (!options.length) el.runService.append(h('option', { value: '' }, 'No services loaded'));
    if (previous && state.services.some((s) => s.id === previous)) el.runService.value = previous;
    updateDraftCheckbox();
  }

  function updateDraftCheckbox() {
    el.runAddDraft.disabled = !isOrderHook(selectedService());
  }

  async function loadPatients() {
    const previous = el.runPatient.value;
    const result = await api('/console/api/patients');
    if (!result.ok || !Array.isArray(result.data)) {
      el.runPatient.replaceChildren(h('option', { value: '' },
        isAuthFailure(result) ? 'Sign in to list demo patients' : 'Demo patients could not be loaded'));
      return;
    }
    if (!result.data.length) {
      el.runPatient.replaceChildren(h('option', { value: '' }, 'No demo patients'));
      return;
    }
    el.runPatient.replaceChildren(...result.data.map((p) => {
      const facts = [p.gender, p.birthDate ? `born ${p.birthDate}` : null].filter(Boolean).join(', ');
      return h('option', { value: p.id }, `${p.name || p.id}${facts ? ` (${facts})` : ''} — ${p.id}`);
    }));
    if (previous && result.data.some((p) => p.id === previous)) el.runPatient.value = previous;
  }

  function setRunStatus(...nodes) {
    el.runStatus.replaceChildren(...nodes);
  }

  function clearRunOutput() {
    el.runRequest.hidden = true;
    el.runRequestJson.textContent = '';
    el.runResponse.hidden = true;
    el.runResponseJson.textContent = '';
    el.cards.replaceChildren();
    el.expressions.replaceChildren();
  }

  /** The service, patient (or pasted Bundle) and draft order chosen in the form; null (with a message) when incomplete. */
  function runBody(service, say) {
    const body = { serviceId: service.id };
    const pasted = el.runBundle.value.trim();
    if (pasted) {
      try {
        body.bundle = JSON.parse(pasted);
      } catch (e) {
        say(h('p', { class: 'error-text' }, `The pasted Bundle is not valid JSON: ${e.message}`));
        el.runBundle.focus();
        return null;
      }
    } else if (el.runPatient.value) {
      body.patientId = el.runPatient.value;
    } else {
      say(h('p', { class: 'error-text' }, 'Choose a demo patient or paste a FHIR Bundle.'));
      return null;
    }
    body.addDraftAblation = isOrderHook(service) && el.runAddDraft.checked;
    return body;
  }

  async function run(event) {
    if (event) event.preventDefault();
    if (state.running) return;
    const service = selectedService();
    if (!service) {
      setRunStatus(h('p', { class: 'error-text' }, 'Choose a service first.'));
      return;
    }
    const body = runBody(service, setRunStatus);
    if (!body) return;

    state.running = true;
    el.run.disabled = true;
    clearRunOutput();
    setRunStatus(h('p', null, 'Running…'));
    try {
      const result = await api('/console/api/run', { method: 'POST', body });
      renderRun(result, body);
    } finally {
      state.running = false;
      el.run.disabled = false;
    }
  }

  function renderRun(result, sent) {
    const patientLabel = sent.patientId ? `patient ${sent.patientId}` : 'the pasted Bundle';
    if (!result.ok || !result.data || typeof result.data !== 'object') {
      const msgs = failureMessages(result);
      setRunStatus(
        h('p', null, `Console API answered HTTP ${result.status || '—'}.`),
        h('ul', { class: 'issue-list error-text' }, msgs.map((m) => h('li', null, m))));
      el.cards.replaceChildren(h('p', { class: 'error-text' }, isAuthFailure(result) ? SIGN_IN : 'No cards: the run failed.'));
      return;
    }
    const data = result.data;
    if (data.request !== undefined) {
      el.runRequestJson.textContent = JSON.stringify(data.request, null, 2);
      el.runRequest.hidden = false;
    }
    if (data.response !== undefined) {
      el.runResponseJson.textContent = JSON.stringify(data.response, null, 2);
      el.runResponse.hidden = false;
    }
    renderExpressions(Array.isArray(data.expressions) ? data.expressions : []);

    const hookStatus = data.status;
    const statusLine = h('p', null, `CDS Hooks service ${sent.serviceId} answered HTTP `,
      h('strong', null, String(hookStatus ?? '—')), ` for ${patientLabel}.`);

    if (hookStatus !== 200) {
      const auth = hookStatus === 401 || hookStatus === 403;
      const issues = outcomeIssues(data.response);
      const msgs = auth ? [SIGN_IN] : issues.length ? issues.map(issueText) : failureMessages({ status: hookStatus, data: data.response });
      setRunStatus(statusLine);
      el.cards.replaceChildren(
        h('p', { class: 'error-text' }, 'The service returned no cards:'),
        h('ul', { class: 'issue-list error-text' }, msgs.map((m) => h('li', null, m))));
      return;
    }

    const cards = data.response && Array.isArray(data.response.cards) ? data.response.cards : [];
    statusLine.append(` ${pluralize(cards.length, 'card', 'cards')}.`);
    setRunStatus(statusLine);
    if (!cards.length) {
      el.cards.replaceChildren(h('p', { class: 'no-advice' }, 'No advice for this patient'));
      return;
    }
    el.cards.replaceChildren(...cards.map(renderCard));
  }

  function cardRuleId(card) {
    const topic = card.source && card.source.topic;
    if (topic && topic.code) return topic.code;
    const ext = card.extension && card.extension['org.crlm-cds.rule'];
    return ext && ext.ruleId ? ext.ruleId : '';
  }

  let cardCounter = 0;

  function renderCard(card) {
    const n = ++cardCounter;
    const indicator = INDICATORS.includes(card.indicator) ? card.indicator : 'info';
    const ruleId = cardRuleId(card);
    const summaryId = `card-summary-${n}`;

    const detail = h('div', { class: 'card-detail' }, renderMarkdown(card.detail));

    const source = card.source || {};
    const sourceLine = h('p', { class: 'card-source' }, 'Source: ',
      source.label
        ? (isHttpUrl(source.url) ? externalLink(source.url, source.label) : source.label)
        : (isHttpUrl(source.url) ? externalLink(source.url, source.url) : 'not given'),
      source.topic && source.topic.code
        ? [' · ', h('span', { class: 'card-topic', title: source.topic.display || null }, `Rule ${source.topic.code}`)]
        : null);

    const parts = [
      h('div', { class: 'card-head' },
        h('span', { class: `badge badge-${indicator}` }, indicator),
        h('h4', { class: 'card-summary', id: summaryId }, card.summary || '(no summary)')),
      detail,
      sourceLine,
    ];

    const suggestions = Array.isArray(card.suggestions) ? card.suggestions : [];
    if (suggestions.length) {
      const behaviour = card.selectionBehavior || card.selectionBehaviour;
      parts.push(h('p', { class: 'card-section-title' }, 'Suggestions',
        behaviour === 'at-most-one' ? h('span', { class: 'muted' }, ' (choose at most one)') : null));
      parts.push(h('ul', { class: 'suggestions' }, suggestions.map((s, i) => renderSuggestion(s, `${n}-${i}`))));
    }

    const reasons = Array.isArray(card.overrideReasons) ? card.overrideReasons : [];
    if (reasons.length) {
      parts.push(h('p', { class: 'card-section-title' }, 'Override reasons'));
      parts.push(h('ul', { class: 'override-reasons' },
        reasons.map((r) => h('li', { 'data-code': r.code || null }, r.display || r.code || ''))));
    }

    const links = (Array.isArray(card.links) ? card.links : []).filter((l) => isHttpUrl(l.url));
    if (links.length) {
      parts.push(h('p', { class: 'card-section-title' }, 'Links'));
      parts.push(h('ul', null, links.map((l) => h('li', null, externalLink(l.url, l.label || l.url),
        l.type === 'smart' ? h('span', { class: 'muted' }, ' (SMART app)') : null))));
    }

    return h('article', {
      class: `card indicator-${indicator}`,
      'data-rule': ruleId,
      'data-uuid': card.uuid || null,
      'aria-labelledby': summaryId,
    }, parts);
  }

  function renderSuggestion(suggestion, key) {
    const actions = Array.isArray(suggestion.actions) ? suggestion.actions : [];
    const would = actions.map((a) => {
      const what = a.resource && a.resource.resourceType ? a.resource.resourceType : (a.resourceId || 'resource');
      return `would ${a.type || 'apply'} ${what}${a.description ? `: ${a.description}` : ''}`;
    });
    const noteId = `suggestion-note-${key}`;
    const detailId = `suggestion-detail-${key}`;
    const detail = h('pre', { class: 'json suggestion-detail', id: detailId, tabindex: '0', hidden: true },
      JSON.stringify(actions.map((a) => a.resource || a), null, 2));
    const button = h('button', {
      type: 'button',
      class: 'secondary suggestion',
      'aria-expanded': 'false',
      'aria-controls': detailId,
      'aria-describedby': noteId,
      onclick: () => {
        const open = button.getAttribute('aria-expanded') !== 'true';
        button.setAttribute('aria-expanded', String(open));
        detail.hidden = !open;
      },
    }, suggestion.label || 'Suggestion');
    return h('li', { 'data-uuid': suggestion.uuid || null },
      h('div', null, button, suggestion.isRecommended ? [' ', h('span', { class: 'badge badge-recommended' }, 'Recommended')] : null),
      h('p', { class: 'suggestion-note', id: noteId },
        `Not applied in the console: ${would.length ? would.join('; ') : 'no actions'}. Press to show the resource.`),
      detail);
  }

  function renderExpressions(expressions) {
    if (!expressions.length) {
      el.expressions.replaceChildren(h('tr', null, h('td', { colspan: '4', class: 'muted' }, 'No expressions were returned.')));
      return;
    }
    el.expressions.replaceChildren(...expressions.map((x) => {
      const hasError = x.error !== undefined && x.error !== null;
      let valueCell;
      if (hasError) {
        const where = x.line !== null && x.line !== undefined
          ? ` (line ${x.line}${x.column !== null && x.column !== undefined ? `, column ${x.column}` : ''})` : '';
        const text = `Error${where}: ${x.error}`;
        const canJump = where && state.library && x.library === state.library.name;
        valueCell = h('td', { class: 'value' }, h('span', { class: 'expr-error' },
          canJump ? h('button', { type: 'button', class: 'link-button', title: 'Go to this line in the editor',
            onclick: () => goToLine(x.line, x.column) }, text) : text));
      } else if (x.value === null || x.value === undefined) {
        valueCell = h('td', { class: 'value' }, h('span', { class: 'value-null' }, 'null'));
      } else {
        const text = typeof x.value === 'object' ? JSON.stringify(x.value) : String(x.value);
        valueCell = h('td', { class: `value${text === 'true' ? ' value-true' : ''}` }, text);
      }
      return h('tr', { 'data-name': x.name, class: hasError ? 'has-error' : null },
        h('th', { scope: 'row' }, x.name || ''),
        valueCell,
        h('td', null, x.type || ''),
        h('td', null, x.library || ''));
    }));
  }


  /* ------------------------------------------------------------------ impact preview */

  function rulesText(rules) {
    return Array.isArray(rules) && rules.length ? rules.join(', ') : '(none)';
  }

  function issueTextOf(problem) {
    const where = problem.library ? `${problem.library}${problem.line ? ` line ${problem.line}` : ''}: ` : '';
    return `${where}${problem.message || ''}`;
  }

  /**
   * An impact preview (from /impact or a rollback's impact): whether the gate would accept, the
   * scenarios and demo patients whose cards change (before → after), a box per changed scenario to
   * make its new cards its expectation, and the button that publishes with those expectations.
   */
  function renderImpact(container, impact, { label, onPublish }) {
    const scenarios = Array.isArray(impact.scenarios) ? impact.scenarios : [];
    const patients = Array.isArray(impact.patients) ? impact.patients : [];
    const problems = Array.isArray(impact.problems) ? impact.problems : [];
    const changeProblems = new Set(scenarios.map((c) => `scenario ${c.scenario}`));
    const otherProblems = problems.filter((p) => !changeProblems.has(p.library));
    const result = h('div', { class: 'impact-result', role: 'status', 'aria-live': 'polite' });
    const boxes = [];
    const children = [
      h('p', { class: 'impact-summary' },
        h('strong', null, impact.publishable ? 'The gate would accept this.' : 'The gate would refuse this as it stands.'),
        ` ${pluralize(impact.scenariosRun ?? 0, 'scenario', 'scenarios')} run; `,
        `${scenarios.length === 1 ? '1 scenario changes its' : `${scenarios.length} scenarios change their`} cards, `,
        `and ${pluralize(patients.length, 'demo patient', 'demo patients')}.`),
    ];
    if (otherProblems.length) {
      children.push(h('ul', { class: 'issue-list error-text', 'aria-label': 'Problems' },
        otherProblems.map((p) => h('li', { class: 'impact-problem' }, issueTextOf(p)))));
    }
    if (scenarios.length) {
      children.push(h('h4', null, 'Scenarios whose cards change'));
      children.push(h('div', { class: 'table-wrap' }, h('table', { class: 'data-table impact-scenarios' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Scenario'),
          h('th', { scope: 'col' }, 'Before'),
          h('th', { scope: 'col' }, 'After'),
          h('th', { scope: 'col' }, 'Expected now'),
          h('th', { scope: 'col' }, 'New expectation'))),
        h('tbody', null, scenarios.map((c) => {
          const boxId = `accept-${container.id}-${c.scenario}`;
          const box = h('input', { type: 'checkbox', id: boxId, 'data-accept': c.scenario, checked: c.accepted ? true : null });
          box.after = c.after;
          boxes.push(box);
          return h('tr', { 'data-scenario': c.scenario, class: c.accepted ? 'accepted' : 'unexpected' },
            h('th', { scope: 'row' }, c.scenario, h('div', { class: 'muted' }, c.title || '')),
            h('td', { class: 'before' }, rulesText(c.before)),
            h('td', { class: 'after' }, rulesText(c.after)),
            h('td', { class: 'expected' }, rulesText(c.expected), c.accepted ? '' : h('span', { class: 'error-text' }, ' (differs)')),
            h('td', null, box, h('label', { for: boxId }, ` expect ${rulesText(c.after)}`)));
        })))));
    }
    if (patients.length) {
      children.push(h('h4', null, 'Demo patients whose cards change'));
      children.push(h('div', { class: 'table-wrap' }, h('table', { class: 'data-table impact-patients' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Patient'),
          h('th', { scope: 'col' }, 'Service'),
          h('th', { scope: 'col' }, 'Before'),
          h('th', { scope: 'col' }, 'After'))),
        h('tbody', null, patients.map((p) => h('tr', { 'data-patient': p.patientId, 'data-service': p.service },
          h('th', { scope: 'row' }, p.patientId),
          h('td', null, p.service),
          h('td', { class: 'before' }, rulesText(p.before)),
          h('td', { class: 'after' }, rulesText(p.after))))))));
    }
    if (!scenarios.length && !patients.length) {
      children.push(h('p', { class: 'no-change' }, 'No scenario and no demo patient changes its cards.'));
    }
    const button = h('button', { type: 'button', class: 'impact-publish' }, label);
    button.addEventListener('click', async () => {
      const expectations = {};
      for (const box of boxes) {
        if (box.checked) expectations[box.dataset.accept] = box.after;
      }
      button.disabled = true;
      result.replaceChildren(h('p', null, 'Publishing…'));
      try {
        const answer = await onPublish(expectations);
        if (answer.ok) {
          result.className = 'impact-result ok';
          result.replaceChildren(h('p', { class: 'published' },
            `Published ${answer.data.resource} version ${answer.data.version}`,
            answer.data.publishedBy ? ` by ${answer.data.publishedBy}` : '', '.'));
        } else {
          result.className = 'impact-result has-errors';
          result.replaceChildren(h('p', null, h('strong', null, 'Not published.')),
            h('ul', { class: 'issue-list' }, failureMessages(answer).map((m) => h('li', { class: 'publish-issue' }, m))));
        }
      } finally {
        button.disabled = false;
      }
    });
    children.push(h('div', { class: 'publish-row' }, button));
    children.push(result);
    container.replaceChildren(...children);
  }

  async function previewImpact() {
    const cql = editor.text();
    el.impact.replaceChildren(h('p', null, 'Running every scenario and demo patient with this text…'));
    const result = await api('/console/api/impact', { method: 'POST', body: { cql } });
    if (!result.ok || !result.data || typeof result.data !== 'object') {
      el.impact.replaceChildren(h('p', { class: 'error-text' }, 'No preview: ', failureMessages(result).join(' ')));
      return;
    }
    renderImpact(el.impact, result.data, {
      label: 'Publish with these expectations',
      onPublish: async (expectations) => {
        const answer = await api('/console/api/publish', { method: 'POST', body: { cql, expectations } });
        if (answer.ok) {
          const header = HEADER_RE.exec(cql);
          if (state.library && header) state.library.version = header[3];
          editorTitle();
          loadOverview();
          await loadKnowledge();
        }
        return answer;
      },
    });
  }

  /* ------------------------------------------------------------------ history, diff, rollback */

  async function loadKnowledge() {
    const result = await api('/console/api/knowledge');
    if (!result.ok || !Array.isArray(result.data)) {
      el.knowledge.replaceChildren(h('tr', null, h('td', { colspan: '6', class: 'error-text' }, failureMessages(result).join(' '))));
      return;
    }
    el.knowledge.replaceChildren(...result.data.map((k) => {
      const ref = `${k.type}/${k.id}`;
      return h('tr', { 'data-resource': ref },
        h('th', { scope: 'row' }, ref),
        h('td', null, k.version || ''),
        h('td', null, k.publishedBy || 'repository (start-up loader)'),
        h('td', null, k.lastUpdated || ''),
        h('td', { class: 'num' }, k.versions ?? ''),
        h('td', null, h('button', { type: 'button', class: 'secondary history-button', onclick: () => openHistory(k.type, k.id) },
          'History', h('span', { class: 'visually-hidden' }, ` of ${ref}`))));
    }));
    if (state.history) await openHistory(state.history.type, state.history.id);
  }

  async function openHistory(type, id) {
    state.history = { type, id };
    const seq = ++state.historySeq;
    el.historyPanel.setAttribute('aria-busy', 'true');
    const result = await api(`/console/api/knowledge/${encodeURIComponent(type)}/${encodeURIComponent(id)}/history`);
    if (seq !== state.historySeq) return; // a newer request renders
    el.historyPanel.removeAttribute('aria-busy');
    el.historyPanel.hidden = false;
    el.historyResource.textContent = `${type}/${id}`;
    el.diff.replaceChildren();
    el.rollback.replaceChildren();
    if (!result.ok || !Array.isArray(result.data)) {
      el.history.replaceChildren(h('tr', null, h('td', { colspan: '8', class: 'error-text' }, failureMessages(result).join(' '))));
      return;
    }
    const versions = result.data; // newest first
    el.history.replaceChildren(...versions.map((v, i) => h('tr', { 'data-version-id': v.versionId },
      h('th', { scope: 'row' }, `_history/${v.versionId}`),
      h('td', { class: 'version' }, v.version || ''),
      h('td', { class: 'published-by' }, v.publishedBy || ''),
      h('td', { class: 'time' }, v.lastUpdated || ''),
      h('td', null, v.status || ''),
      h('td', null, h('input', { type: 'radio', name: 'diff-from', value: v.versionId, checked: i === Math.min(1, versions.length - 1) ? true : null,
        'aria-label': `Diff from _history/${v.versionId}` })),
      h('td', null, h('input', { type: 'radio', name: 'diff-to', value: v.versionId, checked: i === 0 ? true : null,
        'aria-label': `Diff to _history/${v.versionId}` })),
      h('td', null, i === 0 ? '' : h('button', { type: 'button', class: 'secondary rollback-button', 'data-rollback': v.versionId,
        onclick: () => previewRollback(v) }, 'Roll back to this')))));
  }

  async function showDiff() {
    if (!state.history) return;
    const from = el.historyPanel.querySelector('input[name="diff-from"]:checked');
    const to = el.historyPanel.querySelector('input[name="diff-to"]:checked');
    if (!from || !to) return;
    const { type, id } = state.history;
    const result = await api(`/console/api/knowledge/${encodeURIComponent(type)}/${encodeURIComponent(id)}/diff`
      + `?from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`);
    if (!result.ok || !result.data) {
      el.diff.replaceChildren(h('span', { class: 'error-text' }, failureMessages(result).join(' ')));
      return;
    }
    const text = result.data.diff || '';
    if (!text.trim()) {
      el.diff.replaceChildren(h('span', { class: 'no-change' }, `_history/${from.value} and _history/${to.value} have the same content.`));
      return;
    }
    el.diff.replaceChildren(...text.split('\n').map((line) => {
      let cls = 'diff-same';
      if (line.startsWith('+++') || line.startsWith('---')) cls = 'diff-file';
      else if (line.startsWith('@@')) cls = 'diff-hunk';
      else if (line.startsWith('+')) cls = 'diff-add';
      else if (line.startsWith('-')) cls = 'diff-del';
      return h('span', { class: cls }, line);
    }));
  }

  async function previewRollback(version) {
    const { type, id } = state.history;
    const newVersion = el.rollbackVersion.value.trim();
    if (!newVersion) {
      el.rollback.replaceChildren(h('p', { class: 'error-text' },
        'Give the new version the earlier content is published under (a version is never reused).'));
      el.rollbackVersion.focus();
      return;
    }
    const path = `/console/api/knowledge/${encodeURIComponent(type)}/${encodeURIComponent(id)}/rollback`;
    el.rollback.replaceChildren(h('p', null, `Previewing a rollback to _history/${version.versionId}…`));
    const result = await api(`${path}/impact`, { method: 'POST', body: { versionId: version.versionId, newVersion } });
    if (!result.ok || !result.data || typeof result.data !== 'object') {
      el.rollback.replaceChildren(h('p', { class: 'error-text' }, 'No preview: ', failureMessages(result).join(' ')));
      return;
    }
    renderImpact(el.rollback, result.data, {
      label: `Roll back to _history/${version.versionId} (version ${version.version}) as version ${newVersion}`,
      onPublish: async (expectations) => {
        const answer = await api(path, { method: 'POST', body: { versionId: version.versionId, newVersion, expectations } });
        if (answer.ok) {
          loadOverview();
          await loadKnowledgeKeeping();
        }
        return answer;
      },
    });
  }

  /** Reloads the list and the open history, leaving the rollback's answer on screen. */
  async function loadKnowledgeKeeping() {
    const shown = [...el.rollback.childNodes];
    await loadKnowledge();
    el.rollback.replaceChildren(...shown);
  }

  /* ------------------------------------------------------------------ save a run as a scenario */

  async function saveScenario(event) {
    if (event) event.preventDefault();
    const say = (...nodes) => el.saveScenarioResult.replaceChildren(...nodes);
    const service = selectedService();
    if (!service) {
      say(h('p', { class: 'error-text' }, 'Choose a service first.'));
      return;
    }
    const body = runBody(service, say);
    if (!body) return;
    body.id = el.scenarioId.value.trim();
    body.title = el.scenarioTitle.value.trim();
    el.saveScenario.disabled = true;
    say(h('p', null, 'Running and saving…'));
    try {
      const result = await api('/console/api/scenarios', { method: 'POST', body });
      if (!result.ok || !result.data || typeof result.data !== 'object') {
        el.saveScenarioResult.className = 'publish-result has-errors';
        say(h('p', null, h('strong', null, 'Not saved.')),
          h('ul', { class: 'issue-list' }, failureMessages(result).map((m) => h('li', null, m))));
        return;
      }
      el.saveScenarioResult.className = 'publish-result ok';
      say(h('p', { class: 'saved' }, `Saved scenario ${result.data.id} (${result.data.file}) expecting `,
        h('strong', null, rulesText(result.data.expectedRules)), '; every publish now runs it.'),
        h('details', null, h('summary', null, 'The scenario file'),
          h('pre', { class: 'json scenario-yaml', tabindex: '0' }, result.data.yaml || '')));
    } finally {
      el.saveScenario.disabled = false;
    }
  }

  /* ------------------------------------------------------------------ start */

  function init() {
    Object.assign(el, {
      token: $('#token'),
      generation: $('#generation'),
      authMessage: $('#auth-message'),
      overviewStatus: $('#overview-status'),
      reloadOverview: $('#reload-overview'),
      services: $('#services'),
      libraries: $('#libraries'),
      editorTitle: $('#editor-title'),
      editor: $('#editor'),
      cursorPos: $('#cursor-pos'),
      validation: $('#validation'),
      publish: $('#publish'),
      publishResult: $('#publish-result'),
      runForm: $('#run-form'),
      runService: $('#run-service'),
      runPatient: $('#run-patient'),
      runBundle: $('#run-bundle'),
      runAddDraft: $('#run-add-draft'),
      run: $('#run'),
      runStatus: $('#run-status'),
      runRequest: $('#run-request'),
      runRequestJson: $('#run-request-json'),
      runResponse: $('#run-response'),
      runResponseJson: $('#run-response-json'),
      cards: $('#cards'),
      expressions: $('#expressions'),
      previewImpact: $('#preview-impact'),
      impact: $('#impact'),
      saveScenarioForm: $('#save-scenario-form'),
      scenarioId: $('#scenario-id'),
      scenarioTitle: $('#scenario-title'),
      saveScenario: $('#save-scenario'),
      saveScenarioResult: $('#save-scenario-result'),
      reloadKnowledge: $('#reload-knowledge'),
      knowledge: $('#knowledge'),
      historyPanel: $('#history-panel'),
      historyResource: $('#history-resource'),
      history: $('#history'),
      showDiff: $('#show-diff'),
      rollbackVersion: $('#rollback-version'),
      diff: $('#diff'),
      rollback: $('#rollback'),
    });

    try { el.token.value = sessionStorage.getItem(TOKEN_KEY) || ''; } catch { /* storage unavailable */ }
    el.token.addEventListener('input', () => {
      try {
        if (token()) sessionStorage.setItem(TOKEN_KEY, token());
        else sessionStorage.removeItem(TOKEN_KEY);
      } catch { /* storage unavailable */ }
    });
    el.token.addEventListener('change', () => {
      loadOverview();
      loadPatients();
      loadKnowledge();
      if (editor.text().trim()) validateNow();
    });

    el.reloadOverview.addEventListener('click', () => { loadOverview(); loadPatients(); });

    editor = createCqlEditor(el.editor, { label: 'CQL source', onChange: onEditorChange, onCursor: showCursor });

    el.publish.addEventListener('click', publish);
    el.runForm.addEventListener('submit', run);
    el.runService.addEventListener('change', updateDraftCheckbox);
    el.previewImpact.addEventListener('click', previewImpact);
    el.saveScenarioForm.addEventListener('submit', saveScenario);
    el.reloadKnowledge.addEventListener('click', loadKnowledge);
    el.showDiff.addEventListener('click', showDiff);

    updatePublishButton();
    updateDraftCheckbox();

    loadOverview();
    loadPatients();
    loadKnowledge();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
