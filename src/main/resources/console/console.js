// The credit ledger's admin console: plain JavaScript, no framework, no build step.
//
// Rules this file keeps:
// - The admin token lives in sessionStorage (this tab only) and travels only in the Authorization header; it is
//   never put in a URL, a hash, a cookie or the page. A 401 from any call clears it and shows the sign-in form.
// - Everything the service answers is data, shown with textContent (or as an attribute value); no HTML is ever
//   parsed from strings, so a hostile user id, description or error message stays text.
// - No inline script or style (the page is served with Content-Security-Policy: default-src 'self').
'use strict';

(() => {
  const TOKEN_KEY = 'creditLedger.adminToken';
  const JOURNAL_PAGE = 25;
  const GRANTS_LIMIT = 500;
  const OUTBOX_LIMIT = 100;
  const CHART_PAGE = 500;
  const CHART_CAP = 2000;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const $ = (id) => document.getElementById(id);

  /** An element with attributes and children; strings become text nodes, never markup. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) {
        node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    for (const child of children) {
      if (child === null || child === undefined) {
        continue;
      }
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      node.setAttribute(name, String(value));
    }
    return node;
  }

  // ---- formatting

  const numberFormat = new Intl.NumberFormat('en-US');

  function fmtNumber(n) {
    return n === null || n === undefined ? '—' : numberFormat.format(n);
  }

  function fmtDelta(n) {
    return n > 0 ? '+' + numberFormat.format(n) : numberFormat.format(n);
  }

  /** ISO-8601 UTC to "2026-01-15 10:00 UTC" (the full instant is in the element's title). */
  function fmtTime(iso) {
    if (!iso) {
      return '—';
    }
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
    return m ? m[1] + ' ' + m[2] + ' UTC' : iso;
  }

  /** A time in a table: its date and its time of day may go on two lines when the table is short of room. */
  function timeCell(iso, attrs) {
    const text = fmtTime(iso);
    const cut = text.indexOf(' ');
    return el('td', Object.assign({ title: iso || null, class: 'time' }, attrs), cut < 0 ? text
      : el('span', { class: 'nobr' }, text.slice(0, cut)), cut < 0 ? null : ' ',
      cut < 0 ? null : el('span', { class: 'nobr' }, text.slice(cut + 1)));
  }

  /** An id such as free/alice/2026-02-15T10:00:00Z, allowed to break after its slashes (and nowhere else). */
  function breakable(text) {
    const parts = String(text).split('/');
    const out = document.createDocumentFragment();
    parts.forEach((part, i) => {
      out.append(el('span', { class: 'nobr' }, part + (i < parts.length - 1 ? '/' : '')));
      if (i < parts.length - 1) {
        out.append(document.createElement('wbr'));
      }
    });
    return out;
  }

  function pill(text) {
    return el('span', { class: 'pill ' + String(text).replace(/[^a-z_]/g, '') }, text);
  }

  // ---- the API

  class ApiError extends Error {
    constructor(status, code, message, requestId) {
      super(message);
      this.status = status;
      this.code = code;
      this.requestId = requestId;
    }

    /** "404 user_not_found: No user ... (request 4f1c...)" */
    describe() {
      const head = this.status ? this.status + ' ' + this.code : this.code;
      return head + ': ' + this.message + (this.requestId ? ' (request ' + this.requestId + ')' : '');
    }
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  /**
   * Calls the service with the admin token. Resolves to the JSON answer; rejects with an ApiError carrying the
   * answer's {"error":{code,message,requestId}}. A 401 signs the operator out before rejecting.
   */
  async function api(method, path, body) {
    const current = token();
    if (!current) {
      signOut('Sign in with the admin token.');
      throw new ApiError(401, 'unauthorized', 'Not signed in');
    }
    const init = {
      method,
      headers: { Authorization: 'Bearer ' + current, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'network_error', 'The service did not answer (' + e.message + ')');
    }
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (e) {
      json = null;
    }
    const error = json && typeof json === 'object' && json.error && typeof json.error === 'object' ? json.error : null;
    if (response.status === 401) {
      // only if the token that was refused is still the one in use (a later sign-in must not be undone)
      if (token() === current) {
        signOut('The admin token was refused (401 ' + (error && error.code ? error.code : 'unauthorized')
          + '). Sign in again.');
      }
      throw new ApiError(401, 'unauthorized', error && error.message ? error.message : 'Unauthorized');
    }
    if (!response.ok) {
      throw new ApiError(response.status, error && error.code ? String(error.code) : 'http_' + response.status,
        error && error.message ? String(error.message) : (text || response.statusText).slice(0, 300),
        error && error.requestId ? String(error.requestId) : null);
    }
    return json;
  }

  const enc = encodeURIComponent;

  /** Sets a status line: state is idle, loading, ready, empty, error, ok or problems (tests and CSS read it). */
  function status(node, state, text) {
    node.dataset.state = state;
    node.textContent = text || '';
  }

  function showError(node, err) {
    if (err instanceof ApiError && err.status === 401) {
      status(node, 'idle', '');
      return;
    }
    status(node, 'error', 'Error ' + (err instanceof ApiError ? err.describe() : String(err)));
  }

  // ---- signing in and out

  function signedIn() {
    return !!token();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    clearPages();
    $('nav').hidden = true;
    for (const page of document.querySelectorAll('.page')) {
      page.hidden = true;
    }
    $('signin').hidden = false;
    const m = $('signin-message');
    m.textContent = message || '';
    m.hidden = !message;
    m.className = message ? 'notice error' : 'notice';
    $('token-input').value = '';
    $('token-input').focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $('token-input');
    const given = input.value.trim();
    input.value = '';
    const message = $('signin-message');
    if (!given) {
      message.textContent = 'Enter the admin token.';
      message.className = 'notice error';
      message.hidden = false;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, given);
    $('signin-button').disabled = true;
    try {
      // an admin-only read: the service token gets 403 here, a wrong token 401
      await api('GET', '/v1/admin/outbox?status=dead&limit=1');
      message.hidden = true;
      showApp();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) {
        sessionStorage.removeItem(TOKEN_KEY);
        message.textContent = err instanceof ApiError && err.status === 403
          ? 'That token is not the admin token (403 ' + err.code + ').'
          : 'Could not sign in: ' + (err instanceof ApiError ? err.describe() : String(err));
        message.className = 'notice error';
        message.hidden = false;
      }
    } finally {
      $('signin-button').disabled = false;
    }
  }

  function showApp() {
    $('signin').hidden = true;
    $('nav').hidden = false;
    route();
  }

  // ---- pages (the hash names the page, and the account looked up: #user=alice, #org=acme, #outbox, #operations)

  function newJournal() {
    return { before: null, newer: [], nextBefore: null, page: 1 };
  }

  /**
   * An account page: the user page and the org page show grants and a journal with the same functions, each on
   * its own elements (the org page's ids are the user page's with "org-" in front) and its own base path
   * (/v1/users/{id} or /v1/orgs/{id}). seq counts lookups: an answer for an earlier one is dropped.
   */
  function accountView(kind, prefix) {
    return { kind, prefix, seq: 0, id: null, base: null, journal: newJournal() };
  }

  const views = { user: accountView('user', ''), org: accountView('org', 'org-') };

  const IDLE_TEXT = {
    user: 'Enter a user id to see their balance, grants and journal.',
    org: 'Enter an org id to see its pool, members, usage, grants and journal.',
  };

  function fromHash(text) {
    try {
      return decodeURIComponent(text);
    } catch (e) {
      return null;
    }
  }

  function route() {
    if (!signedIn()) {
      if ($('signin').hidden) {
        signOut('');
      }
      return;
    }
    const hash = location.hash.replace(/^#/, '');
    let page = 'user';
    let id = null;
    if (hash === 'outbox' || hash === 'operations' || hash === 'org') {
      page = hash;
    } else if (hash.startsWith('user=')) {
      id = fromHash(hash.slice(5));
    } else if (hash.startsWith('org=')) {
      page = 'org';
      id = fromHash(hash.slice(4));
    }
    for (const section of document.querySelectorAll('.page')) {
      section.hidden = section.id !== 'page-' + page;
    }
    for (const tab of document.querySelectorAll('.tab')) {
      if (tab.dataset.page === page) {
        tab.setAttribute('aria-current', 'page');
      } else {
        tab.removeAttribute('aria-current');
      }
    }
    if (page === 'outbox') {
      loadOutbox();
    } else if ((page === 'user' || page === 'org') && id && id !== views[page].id) {
      $(page + '-input').value = id;
      (page === 'user' ? loadUser : loadOrg)(id);
    }
  }

  function clearPages() {
    for (const view of Object.values(views)) {
      view.seq++;
      view.id = null;
      view.base = null;
      view.journal = newJournal();
      $('tab-' + view.kind).setAttribute('href', '#' + view.kind);
      $(view.kind + '-detail').hidden = true;
      status($(view.kind + '-status'), 'idle', IDLE_TEXT[view.kind]);
    }
    for (const id of ['grants-body', 'journal-body', 'chart', 'org-grants-body', 'org-journal-body', 'org-members-body',
      'org-usage-body', 'dead-body', 'pending-body', 'audit-problems', 'resets-failures']) {
      $(id).replaceChildren();
    }
    for (const id of ['audit-status', 'resets-status', 'dead-status', 'pending-status']) {
      status($(id), 'idle', '');
    }
    $('outbox-message').hidden = true;
    $('audit-problems').hidden = true;
    $('resets-failures').hidden = true;
  }

  // ---- the account pages (users and orgs)

  function lookUp(view, event) {
    event.preventDefault();
    const id = $(view.kind + '-input').value.trim();
    if (!id) {
      status($(view.kind + '-status'), 'error', view.kind === 'org' ? 'Enter an org id.' : 'Enter a user id.');
      return;
    }
    const target = '#' + view.kind + '=' + enc(id);
    if (location.hash === target) {
      (view.kind === 'user' ? loadUser : loadOrg)(id);
    } else {
      view.id = null;
      location.hash = target;
    }
  }

  /** Starts a lookup on an account page: hides what it showed and answers the lookup's seq. */
  function openAccount(view, id, base) {
    const seq = ++view.seq;
    view.id = id;
    view.base = base;
    $(view.kind + '-detail').hidden = true;
    status($(view.kind + '-status'), 'loading', 'Loading…');
    return seq;
  }

  /** The account and its balance arrived: shows the page and starts its journal at page 1. */
  function accountShown(view) {
    status($(view.kind + '-status'), 'ready', '');
    $('tab-' + view.kind).setAttribute('href', '#' + view.kind + '=' + enc(view.id));
    $(view.kind + '-detail').hidden = false;
    view.journal = newJournal();
  }

  /** A lookup that failed: "No user “x”." / "No org “x”." when there is none, else the error. */
  function accountFailed(view, id, err) {
    const node = $(view.kind + '-status');
    if (err instanceof ApiError && err.code === view.kind + '_not_found') {
      status(node, 'not-found', 'No ' + view.kind + ' “' + id + '”.');
    } else {
      showError(node, err);
    }
  }

  /**
   * Opens an account's page: the account and its balance together, drawn by {@code render}; then each of
   * {@code sections} loads on its own (a newer lookup of the same page makes the older one's answers moot).
   */
  async function loadAccount(view, id, base, render, sections) {
    const seq = openAccount(view, id, base);
    let account;
    let balance;
    try {
      [account, balance] = await Promise.all([api('GET', base), api('GET', base + '/balance')]);
    } catch (err) {
      if (seq === view.seq) {
        accountFailed(view, id, err);
      }
      return;
    }
    if (seq !== view.seq) {
      return;
    }
    render(account, balance);
    accountShown(view);
    sections.forEach((load) => load(view, base, seq));
  }

  function loadUser(userId) {
    return loadAccount(views.user, userId, '/v1/users/' + enc(userId), renderUser, [loadGrants, loadJournal, loadChart]);
  }

  /** The line under an account's title: who it is, its Stripe customer, its price and its age. */
  function accountMeta(first, account) {
    return [first,
      account.stripeCustomerId ? 'Stripe customer ' + account.stripeCustomerId : 'no Stripe customer',
      account.centsPerCredit + '¢ per credit',
      'since ' + fmtTime(account.createdAt)].join(' · ');
  }

  function setCard(id, value, text) {
    const node = $(id);
    node.textContent = text;
    node.dataset.value = value === null || value === undefined ? '' : String(value);
    node.classList.toggle('negative', typeof value === 'number' && value < 0);
  }

  function setResetCard(id, nextQuotaReset) {
    setCard(id, nextQuotaReset, fmtTime(nextQuotaReset));
    $(id).title = nextQuotaReset || '';
  }

  function renderUser(user, balance) {
    $('user-title').textContent = user.userId;
    $('user-meta').textContent = accountMeta(user.email, user);
    setCard('card-available', balance.available, fmtNumber(balance.available));
    setCard('card-held', balance.held, fmtNumber(balance.held));
    setCard('card-debt', balance.totalDebt, fmtNumber(balance.totalDebt));
    setCard('card-usage', balance.usageThisCycle, fmtNumber(balance.usageThisCycle));
    setResetCard('card-next-reset', balance.nextQuotaReset);
  }

  /** A user id that opens that user on the Users page. */
  function userLink(userId) {
    return el('a', { href: '#user=' + enc(userId), class: 'mono' }, userId);
  }

  // the org page: the pool's figures, its members and who spent what, then grants and journal as a user's

  function loadOrg(orgId) {
    return loadAccount(views.org, orgId, '/v1/orgs/' + enc(orgId), renderOrg,
      [loadMembers, loadUsage, loadGrants, loadJournal]);
  }

  function renderOrg(org, balance) {
    $('org-title').textContent = org.name;
    $('org-meta').textContent = accountMeta(org.orgId, org);
    setCard('org-card-available', balance.available, fmtNumber(balance.available));
    setCard('org-card-debt', balance.totalDebt, fmtNumber(balance.totalDebt));
    setCard('org-card-usage', balance.usageThisCycle, fmtNumber(balance.usageThisCycle));
    const limit = org.creditLimit === undefined ? null : org.creditLimit;
    setCard('org-card-limit', limit, limit === null ? 'No limit' : fmtNumber(limit));
    // what the credit limit still allows this cycle (the pool's own credits may run out first)
    const left = limit === null ? null : Math.max(0, limit - balance.usageThisCycle);
    setCard('org-card-limit-left', left, left === null ? '—' : fmtNumber(left));
    setResetCard('org-card-next-reset', balance.nextQuotaReset);
  }

  /**
   * GETs {@code path} for one section of an account page: null when it failed (the error is shown in {@code node})
   * or a newer lookup has taken the page over since.
   */
  async function sectionGet(view, seq, node, path) {
    let answer;
    try {
      answer = await api('GET', path);
    } catch (err) {
      if (seq === view.seq) {
        showError(node, err);
      }
      return null;
    }
    return seq === view.seq ? answer : null;
  }

  async function loadMembers(view, base, seq) {
    const node = $('org-members-status');
    status(node, 'loading', 'Loading…');
    $('org-members-table').hidden = true;
    $('org-members-count').textContent = '';
    const page = await sectionGet(view, seq, node, base + '/members');
    if (page === null) {
      return;
    }
    const members = page.members || [];
    $('org-members-body').replaceChildren(...members.map(memberRow));
    $('org-members-count').textContent = '(' + members.length + ')';
    $('org-members-table').hidden = members.length === 0;
    status(node, members.length === 0 ? 'empty' : 'ready', members.length === 0 ? 'No members.' : '');
  }

  function memberRow(m) {
    return el('tr', { 'data-testid': 'member-row', 'data-user-id': m.userId },
      el('td', { 'data-field': 'userId' }, userLink(m.userId)),
      el('td', { 'data-field': 'role' }, m.role),
      timeCell(m.addedAt, { 'data-field': 'addedAt' }));
  }

  async function loadUsage(view, base, seq) {
    const node = $('org-usage-status');
    status(node, 'loading', 'Loading…');
    $('org-usage-table').hidden = true;
    $('org-usage-range').textContent = '';
    // the service's default range: the last 30 days up to now
    const report = await sectionGet(view, seq, node, base + '/usage');
    if (report === null) {
      return;
    }
    const members = report.members || [];
    $('org-usage-body').replaceChildren(...members.map(usageRow));
    setCard('org-usage-total', report.total, fmtNumber(report.total));
    const range = $('org-usage-range');
    range.textContent = fmtTime(report.from) + ' to ' + fmtTime(report.to);
    range.title = report.from + ' to ' + report.to;
    $('org-usage-table').hidden = members.length === 0;
    status(node, members.length === 0 ? 'empty' : 'ready', members.length === 0 ? 'No usage in the last 30 days.' : '');
  }

  function usageRow(m) {
    return el('tr', { 'data-testid': 'usage-row', 'data-user-id': m.userId },
      el('td', { 'data-field': 'userId' }, userLink(m.userId)),
      el('td', { 'data-field': 'credits', class: 'num' }, fmtNumber(m.credits)));
  }

  // grants and journal, for either page: base is the account's path, /v1/users/{id} or /v1/orgs/{id}

  async function loadGrants(view, base, seq) {
    const p = view.prefix;
    const node = $(p + 'grants-status');
    status(node, 'loading', 'Loading…');
    $(p + 'grants-table').hidden = true;
    $(p + 'grants-count').textContent = '';
    const page = await sectionGet(view, seq, node, base + '/grants?limit=' + GRANTS_LIMIT);
    if (page === null) {
      return;
    }
    const grants = page.grants || [];
    $(p + 'grants-body').replaceChildren(...grants.map(grantRow));
    $(p + 'grants-count').textContent = '(' + grants.length + (page.nextBefore !== null ? '+' : '') + ')';
    if (grants.length === 0) {
      status(node, 'empty', 'No grants.');
      return;
    }
    status(node, 'ready', page.nextBefore !== null ? 'Showing the newest ' + grants.length + ' grants.' : '');
    $(p + 'grants-table').hidden = false;
  }

  function grantRow(g) {
    const stripe = g.stripe || {};
    const sync = (stripe.state || '—') + (stripe.voided ? ' (voided)' : '');
    return el('tr', { 'data-testid': 'grant-row', 'data-operation-id': g.operationId },
      el('td', { 'data-field': 'operationId', class: 'mono id', title: g.description || null }, breakable(g.operationId)),
      el('td', { 'data-field': 'type' }, g.type),
      el('td', { 'data-field': 'priority', class: 'num' }, fmtNumber(g.priority)),
      el('td', { 'data-field': 'principal', class: 'num' }, fmtNumber(g.principal)),
      el('td', { 'data-field': 'balance', class: 'num' + (g.balance < 0 ? ' delta-minus' : '') }, fmtNumber(g.balance)),
      timeCell(g.expiresAt, { 'data-field': 'expiresAt' }),
      el('td', { 'data-field': 'state' }, pill(g.state), g.closeReason ? ' ' + g.closeReason : null),
      el('td', { 'data-field': 'stripe', title: stripe.stripeGrantId || null }, pill(sync)),
      timeCell(g.createdAt, { 'data-field': 'createdAt' }));
  }

  // the journal, a page at a time: "older" follows nextBefore, "newer" goes back along the pages already seen

  async function loadJournal(view, base, seq) {
    const p = view.prefix;
    const node = $(p + 'journal-status');
    const j = view.journal;
    status(node, 'loading', 'Loading…');
    $(p + 'journal-older').disabled = true;
    $(p + 'journal-newer').disabled = true;
    let page;
    try {
      page = await api('GET', base + '/ledger?limit=' + JOURNAL_PAGE
        + (j.before !== null ? '&before=' + enc(j.before) : ''));
    } catch (err) {
      if (seq === view.seq) {
        showError(node, err);
        $(p + 'journal-newer').disabled = j.newer.length === 0;
      }
      return;
    }
    if (seq !== view.seq) {
      return;
    }
    const entries = page.entries || [];
    j.nextBefore = page.nextBefore;
    $(p + 'journal-body').replaceChildren(...entries.map(entryRow));
    $(p + 'journal-page').textContent = 'Page ' + j.page;
    $(p + 'journal-older').disabled = j.nextBefore === null || j.nextBefore === undefined;
    $(p + 'journal-newer').disabled = j.newer.length === 0;
    $(p + 'journal-table').hidden = entries.length === 0;
    status(node, entries.length === 0 ? 'empty' : 'ready', entries.length === 0 ? 'No journal entries.' : '');
  }

  function entryRow(e) {
    return el('tr', { 'data-testid': 'journal-row', 'data-entry-id': e.entryId },
      timeCell(e.createdAt, { 'data-field': 'createdAt' }),
      el('td', { 'data-field': 'kind' }, e.kind),
      el('td', { 'data-field': 'delta', class: 'num ' + (e.delta < 0 ? 'delta-minus' : 'delta-plus') }, fmtDelta(e.delta)),
      el('td', { 'data-field': 'grant', class: 'mono' }, e.grantOperationId + ' (' + e.grantType + ')'),
      el('td', { 'data-field': 'balanceAfter', class: 'num' }, fmtNumber(e.balanceAfter)),
      el('td', { 'data-field': 'operationId', class: 'mono' }, e.operationId),
      el('td', { 'data-field': 'description', class: 'wrap' }, e.description || ''));
  }

  function journalOlder(view) {
    const j = view.journal;
    if (j.nextBefore === null || j.nextBefore === undefined || view.id === null) {
      return;
    }
    j.newer.push(j.before);
    j.before = j.nextBefore;
    j.page++;
    loadJournal(view, view.base, view.seq);
  }

  function journalNewer(view) {
    const j = view.journal;
    if (j.newer.length === 0 || view.id === null) {
      return;
    }
    j.before = j.newer.pop();
    j.page--;
    loadJournal(view, view.base, view.seq);
  }

  // ---- the balance chart

  /**
   * The user's balance over time, computed from the journal alone.
   *
   * Every change of a grant's balance is one journal entry, carrying the change (delta) and the grant's balance
   * after it (balanceAfter). The journal is read newest first, a page of CHART_PAGE at a time, following
   * nextBefore until it is null or CHART_CAP entries are in hand; then the entries are walked oldest to newest
   * keeping each grant's latest balance, and the user's balance at each moment is the sum of those. With the whole
   * journal this is exactly the running sum of the deltas (every grant opens with an entry worth its principal).
   * When the history is cut at CHART_CAP, a grant first met after the cut starts at balanceAfter - delta (its
   * balance before that entry), so the line is still right for every grant that moved within it; grants untouched
   * within it are left out, and the chart says so.
   *
   * Entries made at one instant (one operation drawing on several grants, a debt settled by a new grant) make one
   * point: the balance once all of them are applied. Credits count until the journal says otherwise: an expired
   * grant's leftover credits leave the line when their expiry is journalled (by the next consumption or reset).
   */
  function balanceSeries(entriesNewestFirst) {
    const grants = new Map();
    let total = 0;
    const points = [];
    for (let i = entriesNewestFirst.length - 1; i >= 0; i--) {
      const e = entriesNewestFirst[i];
      const before = grants.has(e.grantId) ? grants.get(e.grantId) : e.balanceAfter - e.delta;
      total += e.balanceAfter - before;
      grants.set(e.grantId, e.balanceAfter);
      const last = points[points.length - 1];
      if (last && last.at === e.createdAt) {
        last.value = total;
      } else {
        points.push({ at: e.createdAt, time: Date.parse(e.createdAt), value: total });
      }
    }
    return points;
  }

  async function loadChart(view, base, seq) {
    const node = $(view.prefix + 'chart-status');
    const chart = $(view.prefix + 'chart');
    status(node, 'loading', 'Loading…');
    chart.replaceChildren();
    const entries = [];
    let before = null;
    let cut = false;
    try {
      for (;;) {
        const page = await api('GET', base + '/ledger?limit=' + CHART_PAGE
          + (before !== null ? '&before=' + enc(before) : ''));
        if (seq !== view.seq) {
          return;
        }
        entries.push(...(page.entries || []));
        before = page.nextBefore;
        if (before === null || before === undefined) {
          break;
        }
        if (entries.length >= CHART_CAP) {
          cut = true;
          break;
        }
      }
    } catch (err) {
      if (seq === view.seq) {
        showError(node, err);
      }
      return;
    }
    const points = balanceSeries(entries);
    if (points.length === 0) {
      status(node, 'empty', 'No journal entries to chart.');
      return;
    }
    status(node, 'ready', '');
    chart.replaceChildren(drawChart(points, entries.length, cut));
  }

  function drawChart(points, entryCount, cut) {
    const width = 1000;
    const height = 200;
    const pad = 8;
    const values = points.map((p) => p.value);
    let min = Math.min(0, ...values);
    let max = Math.max(0, ...values);
    if (min === max) {
      max = min + 1;
    }
    const first = points[0].time;
    const last = points[points.length - 1].time;
    const span = last - first;
    const x = (p, i) => {
      if (points.length === 1) {
        return width / 2;
      }
      const share = span > 0 ? (p.time - first) / span : i / (points.length - 1);
      return pad + share * (width - 2 * pad);
    };
    const y = (v) => pad + (1 - (v - min) / (max - min)) * (height - 2 * pad);
    const coords = points.map((p, i) => x(p, i).toFixed(1) + ',' + y(p.value).toFixed(1));

    const root = svg('svg', {
      class: 'chart-svg',
      viewBox: '0 0 ' + width + ' ' + height,
      preserveAspectRatio: 'none',
      role: 'img',
      'data-testid': 'chart-svg',
      'data-points': points.length,
      'data-last': points[points.length - 1].value,
      'aria-label': 'Balance over time: ' + points.length + ' points, now ' + fmtNumber(points[points.length - 1].value),
    });
    const title = svg('title');
    title.textContent = 'Balance from ' + fmtTime(points[0].at) + ' to ' + fmtTime(points[points.length - 1].at);
    root.append(title);
    if (min < 0) {
      root.append(svg('line', { class: 'chart-zero', x1: 0, x2: width, y1: y(0).toFixed(1), y2: y(0).toFixed(1),
        'vector-effect': 'non-scaling-stroke' }));
    }
    if (points.length > 1) {
      const baseline = y(Math.max(min, 0)).toFixed(1);
      root.append(svg('polygon', { class: 'chart-area',
        points: x(points[0], 0).toFixed(1) + ',' + baseline + ' ' + coords.join(' ') + ' '
          + x(points[points.length - 1], points.length - 1).toFixed(1) + ',' + baseline }));
    }
    root.append(svg('polyline', { class: 'chart-line', points: coords.join(' '), 'data-testid': 'chart-line',
      'vector-effect': 'non-scaling-stroke' }));

    const frame = el('div', { class: 'chart-frame' },
      el('div', { class: 'chart-y', 'aria-hidden': 'true' }, el('span', null, fmtNumber(max)), el('span', null, fmtNumber(min))),
      root,
      el('div', { class: 'chart-x' }, el('span', null, fmtTime(points[0].at)),
        el('span', { 'data-testid': 'chart-now' }, 'now ' + fmtNumber(points[points.length - 1].value)),
        el('span', null, fmtTime(points[points.length - 1].at))));
    const note = el('p', { class: 'chart-note', 'data-testid': 'chart-note' },
      'Net balance (credits less debt) after each change, from ' + fmtNumber(entryCount) + ' journal entries'
      + (cut ? ' — the newest ' + fmtNumber(entryCount) + ' only; grants untouched since are not counted.' : '.'));
    return el('div', null, frame, note);
  }

  // ---- the outbox page

  let outboxSeq = 0;

  async function loadOutbox() {
    const seq = ++outboxSeq;
    const lists = [
      { status: 'dead', body: $('dead-body'), table: $('dead-table'), node: $('dead-status'), count: $('dead-count') },
      { status: 'pending', body: $('pending-body'), table: $('pending-table'), node: $('pending-status'),
        count: $('pending-count') },
    ];
    $('outbox-refresh').disabled = true;
    for (const l of lists) {
      status(l.node, 'loading', 'Loading…');
    }
    await Promise.all(lists.map(async (l) => {
      let page;
      try {
        page = await api('GET', '/v1/admin/outbox?status=' + l.status + '&limit=' + OUTBOX_LIMIT);
      } catch (err) {
        if (seq === outboxSeq) {
          showError(l.node, err);
          l.table.hidden = true;
        }
        return;
      }
      if (seq !== outboxSeq) {
        return;
      }
      const rows = page.rows || [];
      l.body.replaceChildren(...rows.map((r) => outboxRow(r, l.status === 'dead')));
      l.count.textContent = '(' + rows.length + (page.nextBefore !== null ? '+' : '') + ')';
      l.table.hidden = rows.length === 0;
      status(l.node, rows.length === 0 ? 'empty' : 'ready', rows.length === 0 ? 'No ' + l.status + ' rows.' : '');
    }));
    if (seq === outboxSeq) {
      $('outbox-refresh').disabled = false;
    }
  }

  function outboxRow(r, dead) {
    const cells = [
      el('td', { 'data-field': 'outboxId', class: 'num' }, String(r.outboxId)),
      el('td', { 'data-field': 'action' }, r.action),
      el('td', { 'data-field': 'userId' }, userLink(r.userId)),
      el('td', { 'data-field': 'grantOperationId', class: 'mono id' }, breakable(r.grantOperationId || '—')),
      el('td', { 'data-field': 'attempts', class: 'num' }, fmtNumber(r.attempts)),
    ];
    if (!dead) {
      cells.push(timeCell(r.nextAttemptAt, { 'data-field': 'nextAttemptAt' }));
    }
    cells.push(el('td', { 'data-field': 'lastError', class: 'wrap' }, r.lastError || '—'));
    cells.push(timeCell(r.createdAt, { 'data-field': 'createdAt' }));
    if (dead) {
      const button = el('button', { type: 'button', class: 'retry', 'data-testid': 'retry-button',
        id: 'retry-' + r.outboxId, 'data-outbox-id': r.outboxId }, 'Retry');
      button.addEventListener('click', () => retry(r.outboxId, button));
      cells.push(el('td', null, button));
    }
    return el('tr', { 'data-testid': dead ? 'dead-row' : 'pending-row', 'data-outbox-id': r.outboxId }, ...cells);
  }

  async function retry(outboxId, button) {
    const message = $('outbox-message');
    button.disabled = true;
    button.textContent = 'Retrying…';
    try {
      const row = await api('POST', '/v1/admin/outbox/' + enc(outboxId) + '/retry', {});
      message.textContent = 'Row ' + row.outboxId + ' is back in line (' + row.status + ').';
      message.className = 'notice ok';
      message.dataset.state = 'ok';
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        return;
      }
      message.textContent = 'Retry of row ' + outboxId + ' failed: '
        + (err instanceof ApiError ? err.describe() : String(err));
      message.className = 'notice error';
      message.dataset.state = 'error';
    }
    message.hidden = false;
    await loadOutbox();
  }

  // ---- the operations page

  async function runAudit() {
    const node = $('audit-status');
    const list = $('audit-problems');
    const button = $('run-audit');
    button.disabled = true;
    list.hidden = true;
    list.replaceChildren();
    status(node, 'loading', 'Running the audit…');
    try {
      const report = await api('GET', '/v1/admin/audit');
      const problems = report.problems || [];
      if (report.ok) {
        status(node, 'ok', 'OK: no problems (checked ' + fmtTime(report.checkedAt) + ').');
      } else {
        status(node, 'problems', problems.length + (problems.length === 1 ? ' problem' : ' problems')
          + ' (checked ' + fmtTime(report.checkedAt) + '):');
      }
      list.replaceChildren(...problems.map((p) => el('li', { 'data-testid': 'audit-problem' },
        el('span', { class: 'check' }, p.check), ': ' + p.problem)));
      list.hidden = problems.length === 0;
    } catch (err) {
      showError(node, err);
    } finally {
      button.disabled = false;
    }
  }

  async function runResets() {
    const node = $('resets-status');
    const list = $('resets-failures');
    const button = $('run-resets');
    button.disabled = true;
    list.hidden = true;
    list.replaceChildren();
    status(node, 'loading', 'Running the due resets…');
    try {
      const run = await api('POST', '/v1/admin/resets/run', {});
      const failed = run.failed || [];
      node.dataset.reset = String(run.reset);
      node.dataset.failed = String(failed.length);
      status(node, failed.length === 0 ? 'ok' : 'problems', 'Reset ' + run.reset + (run.reset === 1 ? ' user' : ' users')
        + (failed.length === 0 ? '; no failures.' : '; ' + failed.length + ' failed:'));
      list.replaceChildren(...failed.map((f) => el('li', { 'data-testid': 'resets-failure' },
        el('span', { class: 'check' }, f.userId), ': ' + f.error)));
      list.hidden = failed.length === 0;
    } catch (err) {
      showError(node, err);
    } finally {
      button.disabled = false;
    }
  }

  // ---- wiring

  function start() {
    $('signin-form').addEventListener('submit', signIn);
    $('lookup-form').addEventListener('submit', (event) => lookUp(views.user, event));
    $('org-lookup-form').addEventListener('submit', (event) => lookUp(views.org, event));
    $('sign-out').addEventListener('click', () => signOut('Signed out.'));
    for (const view of Object.values(views)) {
      $(view.prefix + 'journal-older').addEventListener('click', () => journalOlder(view));
      $(view.prefix + 'journal-newer').addEventListener('click', () => journalNewer(view));
    }
    $('outbox-refresh').addEventListener('click', loadOutbox);
    $('tab-outbox').addEventListener('click', () => {
      if (location.hash === '#outbox') {
        loadOutbox();
      }
    });
    $('run-audit').addEventListener('click', runAudit);
    $('run-resets').addEventListener('click', runResets);
    window.addEventListener('hashchange', route);
    if (signedIn()) {
      showApp();
    } else {
      signOut('');
    }
  }

  start();
})();
