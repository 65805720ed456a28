// The Idunox partner portal. Vanilla JavaScript modules, no framework, no build step.
//
// Rules this file keeps:
// - every value from the API is inserted as text (dom.js); nothing is parsed as HTML;
// - the session token stays in sessionStorage (api.js), never in a cookie or a URL;
// - a plaintext key is held only by the one-time panel that shows it; closing the panel
//   removes it from the page and drops the last reference to it.

import {
  ApiError,
  createCredential,
  getConfig,
  listCredentials,
  login,
  revokeCredential,
  rotateCredential,
  session,
  setUnauthorizedHandler,
} from './api.js';
import { append, byId, clear, h, notice, show } from './dom.js';
import { durationText, expiresIn, formatDate, formatDateTime, plural, untilText } from './format.js';

const THEME_KEY = 'idunox.portal.theme';
const STATUSES = ['active', 'expiring', 'grace', 'revoked', 'expired'];
const STATUS_LABELS = {
  active: 'Active',
  expiring: 'Expiring',
  grace: 'In grace',
  revoked: 'Revoked',
  expired: 'Expired',
};
const SESSION_EXPIRED = 'Your session has expired. Please sign in again.';

const state = {
  config: {
    environment: '',
    key_prefix: '',
    default_validity_days: 365,
    rotation_grace_hours: [24, 48, 72],
    expiring_threshold_days: 30,
    docs_url: null,
    api_base_url: null,
  },
  credentials: [],
  signedIn: false,
  expiryTimer: 0,
  statusTimer: 0,
  retryTimer: 0,
};

// ---------------------------------------------------------------- theme

const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');

function storedTheme() {
  try {
    const value = localStorage.getItem(THEME_KEY);
    return value === 'dark' || value === 'light' ? value : null;
  } catch {
    return null;
  }
}

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const toggle = byId('theme-toggle');
  toggle.setAttribute('aria-pressed', theme === 'dark' ? 'true' : 'false');
  toggle.title = theme === 'dark' ? 'Switch to the light theme' : 'Switch to the dark theme';
}

function initTheme() {
  applyTheme(storedTheme() || (darkQuery.matches ? 'dark' : 'light'));
  darkQuery.addEventListener('change', (event) => {
    if (!storedTheme()) applyTheme(event.matches ? 'dark' : 'light');
  });
  byId('theme-toggle').addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      // Storage may be disabled: the choice then lasts for this page only.
    }
    applyTheme(next);
  });
}

// ---------------------------------------------------------------- status messages

function announce(message) {
  const region = byId('status');
  window.clearTimeout(state.statusTimer);
  region.textContent = message;
  state.statusTimer = window.setTimeout(() => {
    region.textContent = '';
  }, 8000);
}

// ---------------------------------------------------------------- configuration

function safeHttpUrl(value) {
  if (typeof value !== 'string' || !value) return null;
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

function keyPrefixText() {
  const { key_prefix: prefix, environment } = state.config;
  if (!prefix) return '';
  if (environment && !prefix.includes(`_${environment}`)) return `${prefix}_${environment}_`;
  return prefix.endsWith('_') ? prefix : `${prefix}_`;
}

function renderConfig() {
  const { config } = state;
  const env = typeof config.environment === 'string' ? config.environment : '';
  const badge = byId('env-badge');
  if (env) {
    badge.textContent = `${env} environment`;
    badge.className = `env-badge ${env === 'live' ? 'env-live' : 'env-nonlive'}`;
    show(badge);
    if (env !== 'live') {
      byId('env-banner-title').textContent = `You are in the ${env} environment.`;
      const prefix = keyPrefixText();
      byId('env-banner-text').textContent = prefix
        ? `Keys issued here start with ${prefix} and are refused by production.`
        : 'Keys issued here are refused by production.';
      show(byId('env-banner'));
    }
    document.title = `Idunox partner portal · ${env}`;
  }
  const docs = safeHttpUrl(config.docs_url);
  const docsLink = byId('docs-link');
  if (docs) {
    docsLink.href = docs;
    show(docsLink);
  }
  const apiBase = safeHttpUrl(config.api_base_url);
  byId('footer-api').textContent = apiBase ? `API base URL: ${config.api_base_url}` : '';
  const validity = byId('create-validity');
  validity.value = String(config.default_validity_days);
}

async function loadConfig() {
  try {
    const config = await getConfig();
    if (config && typeof config === 'object') {
      const hours = Array.isArray(config.rotation_grace_hours)
        ? config.rotation_grace_hours.filter((n) => Number.isInteger(n) && n > 0)
        : [];
      state.config = {
        ...state.config,
        ...config,
        rotation_grace_hours: hours.length ? hours : state.config.rotation_grace_hours,
        default_validity_days: Number.isInteger(config.default_validity_days)
          ? config.default_validity_days
          : state.config.default_validity_days,
      };
    }
  } catch {
    notice(byId('signin-message'), 'The portal configuration could not be loaded; some details may be missing.');
  }
  renderConfig();
}

// ---------------------------------------------------------------- dialogs

/** Opens a modal dialog, moving focus in, and remembers where focus goes back on close. */
function openDialog(dialog, opener, focusTarget) {
  dialog.returnFocusTo = opener || document.activeElement;
  dialog.showModal();
  if (focusTarget) focusTarget.focus();
}

function restoreFocus(dialog) {
  const target = dialog.returnFocusTo;
  dialog.returnFocusTo = null;
  // `false`: whoever closed the dialog moves focus itself (e.g. into the one-time key panel).
  if (target === false || !state.signedIn) return;
  if (target && target.isConnected && !target.disabled) {
    target.focus();
  } else {
    byId('create-open').focus();
  }
}

function initDialogs() {
  for (const dialog of document.querySelectorAll('dialog.dialog')) {
    dialog.addEventListener('close', () => restoreFocus(dialog));
    for (const button of dialog.querySelectorAll('[data-close]')) {
      button.addEventListener('click', () => dialog.close());
    }
  }
}

function closeAllDialogs() {
  for (const dialog of document.querySelectorAll('dialog')) {
    if (dialog.open) dialog.close();
  }
  removeSecretPanel();
}

// ---------------------------------------------------------------- the one-time key panel

let removeSecretPanel = () => {};

async function copyToClipboard(text, element) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await Promise.race([
        navigator.clipboard.writeText(text),
        new Promise((_, reject) => window.setTimeout(() => reject(new Error('timeout')), 1500)),
      ]);
      return true;
    } catch {
      // Fall back to selecting the text and the legacy copy command.
    }
  }
  const selection = window.getSelection();
  const range = document.createRange();
  range.selectNodeContents(element);
  selection.removeAllRanges();
  selection.addRange(range);
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/**
 * Shows a plaintext key once, in a modal panel with a copy button. Closing the panel (button or
 * Escape) removes it from the DOM and drops the key from memory.
 */
function showSecretPanel(options) {
  removeSecretPanel();
  let secret = options.apiKey;
  options.apiKey = null;
  const opener = byId('create-open');

  const value = h('code', { class: 'secret-value', id: 'secret-value', 'data-testid': 'secret-value' }, secret);
  const copyStatus = h('p', { class: 'copy-status', role: 'status', 'aria-live': 'polite' });
  const copyButton = h('button', { class: 'button primary', type: 'button', id: 'secret-copy' }, 'Copy key');
  const doneButton = h('button', { class: 'button', type: 'button', id: 'secret-close' }, 'I have stored the key');
  const dialog = h(
    'dialog',
    {
      class: 'dialog secret-dialog',
      id: 'secret-dialog',
      'aria-labelledby': 'secret-title',
      'aria-describedby': 'secret-warning',
    },
    h('h2', { id: 'secret-title' }, options.title),
    h(
      'p',
      { class: 'secret-for' },
      'For ',
      h('strong', {}, options.credential.name || 'Unnamed key'),
      ' · ',
      h('code', {}, options.credential.masked_key),
    ),
    h(
      'div',
      { class: 'notice warning', id: 'secret-warning' },
      h('strong', {}, 'Copy this key now. It will not be shown again. '),
      'Idunox keeps only a hash of it. If you lose it, rotate the key or create a new one.',
    ),
    h('div', { class: 'secret-box' }, value),
    options.note ? h('p', { class: 'muted' }, options.note) : null,
    h('div', { class: 'dialog-actions' }, copyStatus, doneButton, copyButton),
  );

  copyButton.addEventListener('click', async () => {
    if (secret === null) return;
    const ok = await copyToClipboard(secret, value);
    copyStatus.textContent = ok
      ? 'Copied.'
      : 'Copying failed: the key is selected, press Ctrl+C (or ⌘C) to copy it.';
    copyStatus.className = ok ? 'copy-status ok' : 'copy-status error';
  });
  doneButton.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    secret = null;
    value.textContent = '';
    const selection = window.getSelection();
    if (selection) selection.removeAllRanges();
    dialog.remove();
    removeSecretPanel = () => {};
    if (state.signedIn) (opener.isConnected ? opener : byId('keys-title')).focus();
  });
  removeSecretPanel = () => {
    if (dialog.open) dialog.close();
    else dialog.remove();
  };

  document.body.append(dialog);
  dialog.showModal();
  copyButton.focus();
}

// ---------------------------------------------------------------- key list

function displayName(credential) {
  return credential.name ? credential.name : 'Unnamed key';
}

function statusBadge(status) {
  const known = STATUSES.includes(status);
  return h(
    'span',
    { class: `badge badge-${known ? status : 'unknown'}`, 'data-status': known ? status : 'unknown' },
    known ? STATUS_LABELS[status] : String(status),
  );
}

function timeEl(iso, text) {
  return h('time', { datetime: iso, title: iso }, text);
}

function expiryCell(c) {
  switch (c.status) {
    case 'active':
    case 'expiring':
      return [
        h('span', { class: c.status === 'expiring' ? 'expiry warn' : 'expiry' },
          Number.isInteger(c.expires_in_days) ? expiresIn(c.expires_in_days) : 'Expires'),
        h('span', { class: 'sub' }, timeEl(c.expires_at, formatDate(c.expires_at))),
      ];
    case 'grace':
      return [
        h('span', { class: 'expiry grace' }, 'Grace ends ', timeEl(c.grace_expires_at, formatDateTime(c.grace_expires_at))),
        h('span', { class: 'sub' }, `Still accepted, stops working ${untilText(c.grace_expires_at)}`),
      ];
    case 'revoked':
      return [
        h('span', { class: 'expiry' }, 'Revoked ', c.revoked_at ? timeEl(c.revoked_at, formatDateTime(c.revoked_at)) : ''),
        h('span', { class: 'sub' }, 'Refused since then'),
      ];
    case 'expired': {
      const at = c.grace_expires_at && new Date(c.grace_expires_at) < new Date(c.expires_at) ? c.grace_expires_at : c.expires_at;
      return [h('span', { class: 'expiry' }, 'Expired ', timeEl(at, formatDateTime(at)))];
    }
    default:
      return [h('span', { class: 'expiry' }, c.expires_at ? timeEl(c.expires_at, formatDate(c.expires_at)) : '')];
  }
}

function keyRow(c) {
  const name = displayName(c);
  const actions = h('div', { class: 'row-actions' });
  if (c.status === 'active' || c.status === 'expiring') {
    const rotate = h('button', { class: 'button small', type: 'button', 'data-action': 'rotate', 'aria-label': `Rotate key ${name}` }, 'Rotate');
    rotate.addEventListener('click', () => openRotate(c, rotate));
    actions.append(rotate);
  }
  if (c.status === 'active' || c.status === 'expiring' || c.status === 'grace') {
    const revoke = h('button', { class: 'button small danger-outline', type: 'button', 'data-action': 'revoke', 'aria-label': `Revoke key ${name}` }, 'Revoke');
    revoke.addEventListener('click', () => openRevoke(c, revoke));
    actions.append(revoke);
  }

  const sub = [];
  if (c.status === 'grace' && c.replaced_by) sub.push('Replaced by a rotated key');
  else if (c.replaces) sub.push('Rotated from an earlier key');
  sub.push(c.last_used_at ? `Last used ${formatDateTime(c.last_used_at)}` : 'Never used');

  return h(
    'tr',
    { 'data-id': c.id, 'data-status': STATUSES.includes(c.status) ? c.status : 'unknown', class: 'key-row' },
    h('td', { 'data-label': 'Name' },
      h('span', { class: c.name ? 'key-name' : 'key-name unnamed' }, name),
      h('span', { class: 'sub' }, sub.join(' · '))),
    h('td', { 'data-label': 'Key' }, h('code', { class: 'masked' }, c.masked_key)),
    h('td', { 'data-label': 'Status' }, statusBadge(c.status)),
    h('td', { 'data-label': 'Created' }, timeEl(c.created_at, formatDate(c.created_at))),
    h('td', { 'data-label': 'Expiry' }, h('div', { class: 'stack' }, expiryCell(c))),
    h('td', { class: 'actions-cell' }, actions),
  );
}

function renderList() {
  show(byId('keys-loading'), false);
  const body = clear(byId('keys-body'));
  const creds = state.credentials;
  show(byId('keys-empty'), creds.length === 0);
  show(byId('keys-panel'), creds.length > 0);
  for (const c of creds) body.append(keyRow(c));
  const counts = STATUSES.map((s) => [s, creds.filter((c) => c.status === s).length]).filter(([, n]) => n > 0);
  const tenant = session.get()?.tenant?.name;
  const summary = creds.length
    ? `${plural(creds.length, 'key', 'keys')}: ${counts.map(([s, n]) => `${n} ${STATUS_LABELS[s].toLowerCase()}`).join(', ')}`
    : 'No keys yet';
  byId('tenant-line').textContent = tenant ? `${tenant} · ${summary}` : summary;
}

/** Puts fresh credentials into the list at once (newest first), before the next reload. */
function upsert(...credentials) {
  for (const c of credentials) {
    if (!c || !c.id) continue;
    const index = state.credentials.findIndex((x) => x.id === c.id);
    if (index >= 0) state.credentials[index] = c;
    else state.credentials.unshift(c);
  }
  state.credentials.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  renderList();
}

async function reloadList({ quiet = false } = {}) {
  const errorBox = byId('keys-error');
  try {
    const data = await listCredentials();
    if (!state.signedIn) return;
    state.credentials = Array.isArray(data?.credentials) ? data.credentials : [];
    notice(errorBox, '');
    renderList();
    if (!quiet) announce('Key list updated.');
  } catch (error) {
    if (!state.signedIn) return;
    show(byId('keys-loading'), false);
    notice(errorBox, `The keys could not be loaded: ${messageOf(error)}`);
  }
}

function messageOf(error) {
  return error instanceof ApiError ? error.message : 'Something went wrong. Please try again.';
}

// ---------------------------------------------------------------- create

function openCreate(event) {
  const form = byId('create-form');
  form.reset();
  byId('create-validity').value = String(state.config.default_validity_days);
  notice(byId('create-error'), '');
  openDialog(byId('create-dialog'), event.currentTarget, byId('create-name'));
}

async function submitCreate(event) {
  event.preventDefault();
  const errorBox = byId('create-error');
  const name = byId('create-name').value.trim();
  const daysText = byId('create-validity').value.trim();
  const days = Number(daysText);
  if (!/^\d+$/.test(daysText) || days < 1 || days > 365) {
    notice(errorBox, 'Validity must be a whole number of days between 1 and 365.');
    byId('create-validity').focus();
    return;
  }
  if ([...name].length > 100) {
    notice(errorBox, 'The name can be at most 100 characters long.');
    byId('create-name').focus();
    return;
  }
  const submit = byId('create-submit');
  submit.disabled = true;
  try {
    const data = await createCredential(name, days);
    const dialog = byId('create-dialog');
    dialog.returnFocusTo = false;
    dialog.close();
    upsert(data.credential);
    announce(`Key “${displayName(data.credential)}” created.`);
    showSecretPanel({ title: 'Your new API key', apiKey: data.api_key, credential: data.credential });
    data.api_key = null;
    reloadList({ quiet: true });
  } catch (error) {
    if (state.signedIn) notice(errorBox, messageOf(error));
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- rotate

let rotating = null;

function graceEndFor(credential, hours) {
  const end = Date.now() + hours * 3600 * 1000;
  const expires = new Date(credential.expires_at).getTime();
  return new Date(Number.isNaN(expires) ? end : Math.min(end, expires)).toISOString();
}

function openRotate(credential, opener) {
  rotating = credential;
  byId('rotate-title').textContent = `Rotate “${displayName(credential)}”`;
  const text = clear(byId('rotate-text'));
  append(text, [
    'A new key replaces ',
    h('code', {}, credential.masked_key),
    '. The current key keeps working during the overlap you choose, so you can deploy the new one, then it stops working.',
  ]);
  const list = clear(byId('rotate-choices'));
  state.config.rotation_grace_hours.forEach((hours, index) => {
    const id = `rotate-hours-${hours}`;
    list.append(
      h('label', { class: 'choice', for: id },
        h('input', { type: 'radio', name: 'grace_hours', id, value: hours, checked: index === 0 }),
        h('span', { class: 'choice-text' },
          h('span', { class: 'choice-title' }, plural(hours, 'hour', 'hours')),
          h('span', { class: 'sub' }, `old key valid until ${formatDateTime(graceEndFor(credential, hours))}`))),
    );
  });
  notice(byId('rotate-error'), '');
  openDialog(byId('rotate-dialog'), opener, list.querySelector('input:checked'));
}

async function submitRotate(event) {
  event.preventDefault();
  const credential = rotating;
  const checked = byId('rotate-choices').querySelector('input:checked');
  if (!credential || !checked) return;
  const submit = byId('rotate-submit');
  submit.disabled = true;
  try {
    const data = await rotateCredential(credential.id, Number(checked.value));
    const dialog = byId('rotate-dialog');
    dialog.returnFocusTo = false;
    dialog.close();
    rotating = null;
    upsert(data.previous, data.credential);
    const graceEnd = data.previous?.grace_expires_at;
    announce(`Key “${displayName(data.credential)}” rotated.`);
    showSecretPanel({
      title: 'Your rotated API key',
      apiKey: data.api_key,
      credential: data.credential,
      note: graceEnd
        ? `The previous key (${data.previous.masked_key}) stays valid until ${formatDateTime(graceEnd)}, then stops working.`
        : null,
    });
    data.api_key = null;
    reloadList({ quiet: true });
  } catch (error) {
    if (state.signedIn) notice(byId('rotate-error'), messageOf(error));
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- revoke

let revoking = null;

function openRevoke(credential, opener) {
  revoking = credential;
  byId('revoke-title').textContent = `Revoke “${displayName(credential)}”?`;
  const text = clear(byId('revoke-text'));
  append(text, [
    'Requests with ',
    h('code', {}, credential.masked_key),
    ' will be refused immediately. This cannot be undone.',
  ]);
  notice(byId('revoke-error'), '');
  openDialog(byId('revoke-dialog'), opener, byId('revoke-cancel'));
}

async function submitRevoke(event) {
  event.preventDefault();
  const credential = revoking;
  if (!credential) return;
  const submit = byId('revoke-submit');
  submit.disabled = true;
  try {
    const data = await revokeCredential(credential.id);
    revoking = null;
    upsert(data.credential);
    byId('revoke-dialog').close();
    announce(`Key “${displayName(data.credential)}” revoked.`);
    reloadList({ quiet: true });
  } catch (error) {
    if (state.signedIn) notice(byId('revoke-error'), messageOf(error));
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- session

function showSignIn(message, kind = 'info') {
  state.signedIn = false;
  show(byId('keys-view'), false);
  show(byId('account'), false);
  show(byId('signin-view'));
  const box = byId('signin-message');
  box.className = `notice ${kind}`;
  notice(box, message);
  byId('signin-password').value = '';
  byId('signin-email').focus();
}

function endSession(message, kind = 'info') {
  const wasSignedIn = state.signedIn;
  state.signedIn = false;
  session.clear();
  window.clearTimeout(state.expiryTimer);
  closeAllDialogs();
  state.credentials = [];
  clear(byId('keys-body'));
  rotating = null;
  revoking = null;
  if (wasSignedIn || message) showSignIn(message, kind);
}

function enterApp(current) {
  state.signedIn = true;
  show(byId('signin-view'), false);
  notice(byId('signin-message'), '');
  byId('account-email').textContent = current.user?.email || '';
  show(byId('account'));
  show(byId('keys-view'));
  show(byId('keys-loading'));
  show(byId('keys-empty'), false);
  show(byId('keys-panel'), false);
  notice(byId('keys-error'), '');
  byId('tenant-line').textContent = current.tenant?.name || '';
  window.clearTimeout(state.expiryTimer);
  if (Number.isFinite(current.expiresAt)) {
    // End the session in the page when the token does; the server refuses it from then on.
    const remaining = Math.min(current.expiresAt - Date.now(), 2 ** 31 - 1);
    state.expiryTimer = window.setTimeout(() => endSession(SESSION_EXPIRED, 'warning'), Math.max(remaining, 0));
  }
  reloadList({ quiet: true });
}

async function submitSignIn(event) {
  event.preventDefault();
  const box = byId('signin-message');
  const email = byId('signin-email').value.trim();
  const password = byId('signin-password').value;
  if (!email || !password) {
    box.className = 'notice error';
    notice(box, 'Enter your email and password.');
    (email ? byId('signin-password') : byId('signin-email')).focus();
    return;
  }
  const submit = byId('signin-submit');
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  let locked = false;
  try {
    const data = await login(email, password);
    const current = {
      token: data.token,
      expiresAt: Number.isFinite(Number(data.expires_in)) ? Date.now() + Number(data.expires_in) * 1000 : null,
      user: data.user,
      tenant: data.tenant,
    };
    session.set(current);
    byId('signin-password').value = '';
    enterApp(current);
    announce(`Signed in as ${current.user?.email || email}.`);
    byId('keys-title').focus();
  } catch (error) {
    box.className = 'notice error';
    if (error instanceof ApiError && error.status === 401) {
      notice(box, 'The email or password is incorrect.');
      byId('signin-password').select();
    } else if (error instanceof ApiError && error.status === 429) {
      const wait = error.retryAfterSeconds;
      notice(
        box,
        wait !== null
          ? `Too many failed sign-in attempts for this account. Try again in ${durationText(wait)}.`
          : 'Too many failed sign-in attempts for this account. Try again later.',
      );
      if (wait !== null && wait > 0) {
        locked = true;
        window.clearTimeout(state.retryTimer);
        state.retryTimer = window.setTimeout(() => {
          submit.disabled = false;
        }, Math.min(wait * 1000, 2 ** 31 - 1));
      }
    } else {
      notice(box, messageOf(error));
    }
  } finally {
    submit.textContent = 'Sign in';
    if (!locked) submit.disabled = false;
  }
}

// ---------------------------------------------------------------- start

function init() {
  initTheme();
  initDialogs();
  setUnauthorizedHandler(() => endSession(SESSION_EXPIRED, 'warning'));
  byId('signin-form').addEventListener('submit', submitSignIn);
  byId('signin-email').addEventListener('input', () => {
    // The lock is per account: another email may try at once.
    window.clearTimeout(state.retryTimer);
    byId('signin-submit').disabled = false;
  });
  byId('create-form').addEventListener('submit', submitCreate);
  byId('rotate-form').addEventListener('submit', submitRotate);
  byId('revoke-form').addEventListener('submit', submitRevoke);
  byId('create-open').addEventListener('click', openCreate);
  byId('create-first').addEventListener('click', openCreate);
  byId('refresh').addEventListener('click', () => reloadList());
  byId('sign-out').addEventListener('click', () => {
    endSession('You have signed out.', 'info');
  });

  const current = session.get();
  if (current && (current.expiresAt === null || current.expiresAt > Date.now())) {
    enterApp(current);
  } else if (current) {
    endSession(SESSION_EXPIRED, 'warning');
  } else {
    showSignIn('');
  }
  loadConfig();
  document.documentElement.classList.add('ready');
}

init();
