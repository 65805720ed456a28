// The key search (`#/keys?q=&tenant=&status=`): answers as you type (debounced), by key id,
// masked key or name, across every tenant or within one, a page at a time. Every row names its
// tenant; live keys can be revoked or restricted (key-changes.js).
//
// Staff never handle a key's secret: a whole key pasted into the search is cut down to its key
// id before anything leaves the page (the server would refuse it anyway), and the field, the
// address and the request only ever hold the key id.

import { listCredentials } from './admin-api.js';
import { onSignOut } from './admin-session.js';
import { rememberTenants, state, tenantName } from './admin-state.js';
import { LIVE_STATUSES, STATUSES, expiryCell, nameEl, statusBadge } from './credential.js';
import { byId, clear, h, show } from './dom.js';
import { plural } from './format.js';
import { ApiError, messageOf } from './http.js';
import { announce } from './notify.js';
import { onEnter, replaceRoute, routeHash } from './router.js';
import { bindTenantPicker, knownTenants } from './tenants.js';

const SEARCH_DELAY_MS = 250;
const PAGE_SIZE = 25;
/**
 * The server runs one search across tenants per staff member at a time and answers 429 (with
 * `Retry-After`) to another meanwhile: an older search of this page may still be running there
 * when a newer one is asked for. The newer one waits as told and asks again, this many times.
 */
const BUSY_RETRIES = 5;
const STATUS_CHOICES = ['', 'active,expiring,grace', ...STATUSES];

/**
 * A whole key, or a key id followed by any part of its secret: `<prefix>_<env>_<key id>_<secret…>`.
 * The masked form (`…_••••`) does not match: it holds no secret.
 */
const KEY_WITH_SECRET = /^[A-Za-z0-9]+_[A-Za-z0-9]+_([0-9A-Za-z]{12})_[0-9A-Za-z]+$/;
/** Base62 characters only (what may follow a key id that was cut out of a key). */
const BASE62 = /^[0-9A-Za-z]*$/;

function freshQuery() {
  return { q: '', tenant: '', status: '' };
}

const search = {
  ...freshQuery(),
  cursors: [null],
  page: 0,
  items: [],
  nextCursor: null,
  loaded: false,
  seq: 0,
};
let actions = { revoke() {}, edit() {} };
let timer = 0;
/** The key id last cut out of a pasted key: characters typed right after it are its secret too. */
let guard = null;

// ---------------------------------------------------------------- rows

function restrictionsCell(c) {
  const scopes = Array.isArray(c.scopes) ? c.scopes : null;
  const ips = Array.isArray(c.allowed_ips) ? c.allowed_ips : null;
  if (!scopes && !ips) return h('span', { class: 'muted' }, 'None');
  const parts = [];
  if (scopes) parts.push(plural(scopes.length, 'scope', 'scopes'));
  if (ips) parts.push(plural(ips.length, 'address block', 'address blocks'));
  const full = [scopes ? `Scopes: ${scopes.join(', ')}` : null, ips ? `Addresses: ${ips.join(', ')}` : null]
    .filter(Boolean)
    .join('. ');
  return h('span', { class: 'restrictions', title: full }, parts.join(' · '), h('span', { class: 'visually-hidden' }, ` (${full})`));
}

function tenantOf(c) {
  const tenant = c.tenant && typeof c.tenant === 'object' ? c.tenant : null;
  const id = tenant?.id ?? null;
  const name = typeof tenant?.name === 'string' ? tenant.name : id ? tenantName(id) : '';
  return { id, name };
}

function keyRow(c) {
  const tenant = tenantOf(c);
  const label = `${c.name ? `${c.name} (${c.masked_key})` : c.masked_key}, ${tenant.name}`;
  const buttons = h('div', { class: 'row-actions' });
  if (LIVE_STATUSES.includes(c.status)) {
    const edit = h('button', { class: 'button small', type: 'button', 'data-action': 'edit', 'aria-label': `Edit key ${label}` }, 'Edit');
    edit.addEventListener('click', () => actions.edit(c, edit));
    const revoke = h(
      'button',
      { class: 'button small danger-outline', type: 'button', 'data-action': 'revoke', 'aria-label': `Revoke key ${label}` },
      'Revoke',
    );
    revoke.addEventListener('click', () => actions.revoke(c, revoke));
    buttons.append(edit, revoke);
  }
  return h(
    'tr',
    {
      'data-id': String(c.id),
      'data-tenant': tenant.id ?? '',
      'data-status': STATUSES.includes(c.status) ? c.status : 'unknown',
      class: 'key-row',
      tabindex: '-1',
    },
    h(
      'td',
      { class: 'col-tenant', 'data-label': 'Tenant' },
      tenant.id
        ? h('a', { class: 'tenant-link', href: routeHash('tenant', { id: tenant.id }), title: tenant.name }, tenant.name)
        : h('span', { class: 'muted' }, 'Unknown'),
    ),
    h('td', { class: 'col-name', 'data-label': 'Name' }, nameEl(c)),
    h('td', { class: 'col-key', 'data-label': 'Key' }, h('code', { class: 'masked' }, String(c.masked_key))),
    h('td', { class: 'col-status', 'data-label': 'Status' }, statusBadge(c.status)),
    h('td', { class: 'col-expiry', 'data-label': 'Expiry' }, expiryCell(c)),
    h('td', { class: 'col-limits', 'data-label': 'Restrictions' }, restrictionsCell(c)),
    h('td', { class: 'actions-cell' }, buttons),
  );
}

// ---------------------------------------------------------------- rendering

function describeQuery() {
  const parts = [search.tenant ? `in ${tenantName(search.tenant)}` : 'in every tenant'];
  const status = byId('key-status').selectedOptions[0];
  parts.push(search.status && status ? status.textContent.toLowerCase() : 'any status');
  if (search.q) parts.unshift(`matching “${search.q}”`);
  return parts.join(', ');
}

function render() {
  if (!search.loaded) return;
  show(byId('keys-loading'), false);
  const rows = search.items.length > 0;
  show(byId('keys-panel'), rows);
  show(byId('keys-nomatch'), !rows);
  if (!rows) byId('keys-nomatch-text').textContent = `No key ${describeQuery()}${search.page ? ' on this page' : ''}.`;
  byId('keys-caption').textContent = `Keys ${describeQuery()}, newest first, page ${search.page + 1}`;
  const body = clear(byId('keys-body'));
  for (const c of search.items) body.append(keyRow(c));
  const multi = search.page > 0 || Boolean(search.nextCursor);
  show(byId('keys-pager'), multi);
  if (multi) {
    const start = search.page * PAGE_SIZE + 1;
    byId('keys-pager-text').textContent = `Keys ${start}–${start + search.items.length - 1}`;
    byId('keys-prev').disabled = search.page === 0;
    byId('keys-next').disabled = !search.nextCursor;
  }
}

/** Says how many keys the search found, for screen readers (the rows say it on screen). */
function countResults() {
  const n = search.items.length;
  byId('keys-count').textContent = n
    ? `${plural(n, 'key', 'keys')} ${search.nextCursor ? 'on this page, more on the next' : 'found'}.`
    : 'No key matches.';
}

// ---------------------------------------------------------------- loading

async function load() {
  const seq = ++search.seq;
  show(byId('keys-loading'), !search.loaded);
  byId('keys-retry').disabled = true;
  try {
    const query = { tenant: search.tenant, q: search.q, status: search.status };
    const data = await whenFree(seq, () =>
      listCredentials({ ...query, limit: PAGE_SIZE, cursor: search.cursors[search.page] }),
    );
    if (seq !== search.seq || !state.signedIn) return;
    search.items = Array.isArray(data?.credentials) ? data.credentials : [];
    rememberTenants(search.items.map((c) => c.tenant).filter(Boolean));
    search.nextCursor = typeof data?.next_cursor === 'string' && data.next_cursor ? data.next_cursor : null;
    search.cursors[search.page + 1] = search.nextCursor;
    search.loaded = true;
    show(byId('keys-error'), false);
    render();
    countResults();
  } catch (error) {
    if (seq !== search.seq || !state.signedIn) return;
    byId('keys-error-text').textContent = search.loaded
      ? `The search could not be answered: ${messageOf(error)} The keys below may be out of date.`
      : `The search could not be answered: ${messageOf(error)}`;
    show(byId('keys-error'));
    show(byId('keys-loading'), false);
  } finally {
    if (seq === search.seq) byId('keys-retry').disabled = false;
  }
}

/**
 * `call()`, asked again after `Retry-After` while the server says another search of this staff
 * member is still running (429) and search `seq` is still the newest; at most `BUSY_RETRIES`
 * times.
 */
async function whenFree(seq, call) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      const busy = error instanceof ApiError && error.status === 429;
      if (!busy || attempt >= BUSY_RETRIES || seq !== search.seq) throw error;
      const seconds = Math.min(Math.max(error.retryAfterSeconds ?? 1, 1), 5);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      if (seq !== search.seq) throw error;
    }
  }
}

function restart() {
  search.page = 0;
  search.cursors = [null];
  replaceRoute('keys', { q: search.q, tenant: search.tenant, status: search.status });
  return load();
}

/**
 * Cuts a pasted key down to its key id, so the secret never leaves the page; says so once.
 * Returns the text to search for.
 */
function withoutSecret(input) {
  const value = input.value.trim();
  const note = byId('key-search-note');
  if (!value) show(note, false);
  if (guard && value.startsWith(guard) && BASE62.test(value.slice(guard.length))) {
    // A key typed (not pasted) arrives a character at a time: keep cutting its secret off.
    if (value !== guard) input.value = guard;
    return guard;
  }
  guard = null;
  const match = KEY_WITH_SECRET.exec(value);
  if (!match) return value;
  const keyId = match[1];
  guard = keyId;
  input.value = keyId;
  warnPastedKey(keyId);
  return keyId;
}

/** Says that a whole key was cut down to its key id, and what to do about the key. */
function warnPastedKey(keyId) {
  const note = byId('key-search-note');
  note.textContent = `That was a whole API key, secret included. Only its key id ${keyId} is searched: the secret was removed and sent nowhere. A key seen outside its owner's secret store counts as leaked: revoke it, and tell the partner.`;
  show(note);
}

// ---------------------------------------------------------------- changes made on this page

/** Shows a key's new state in its row (after revoke or edit) and moves focus to the row. */
export function keyChanged(credential) {
  const index = search.items.findIndex((c) => c.id === credential.id);
  if (index >= 0) search.items[index] = { ...search.items[index], ...credential, tenant: search.items[index].tenant };
  render();
  const row = document.querySelector(`#keys-body tr[data-id="${CSS.escape(credential.id)}"]`);
  (row || byId('keys-title')).focus();
}

// ---------------------------------------------------------------- entering and leaving

function enter(params) {
  let q = typeof params.q === 'string' ? params.q.slice(0, 100) : '';
  // An address may carry a whole key too (a link someone built): it gets the search box's rule,
  // and the address is rewritten without it below.
  const pasted = KEY_WITH_SECRET.exec(q.trim());
  if (pasted) q = pasted[1];
  const tenant = typeof params.tenant === 'string' ? params.tenant : '';
  const status = STATUS_CHOICES.includes(params.status) ? params.status : '';
  const changed = !search.loaded || q !== search.q || tenant !== search.tenant || status !== search.status;
  Object.assign(search, { q, tenant, status });
  if (pasted) {
    guard = q;
    warnPastedKey(q);
  } else if (q !== guard) {
    guard = null;
    show(byId('key-search-note'), false);
  }
  byId('key-search').value = q;
  byId('key-status').value = status;
  byId('key-tenant').value = tenant;
  knownTenants().then(() => {
    byId('key-tenant').value = search.tenant;
  });
  if (changed || pasted) restart();
  else load();
}

function reset() {
  search.seq += 1;
  window.clearTimeout(timer);
  guard = null;
  Object.assign(search, freshQuery(), { cursors: [null], page: 0, items: [], nextCursor: null, loaded: false });
  byId('key-search').value = '';
  byId('key-status').value = '';
  byId('key-tenant').value = '';
  clear(byId('keys-body'));
  byId('keys-count').textContent = '';
  for (const id of ['keys-panel', 'keys-nomatch', 'keys-pager', 'keys-error', 'key-search-note']) show(byId(id), false);
}

/** Wires the search box, pickers and pager; `handlers`: `{revoke, edit}` for row buttons. */
export function initKeySearch(handlers) {
  actions = handlers;
  onEnter('keys', enter);
  onSignOut(reset);
  bindTenantPicker(byId('key-tenant'), () => search.tenant);
  const input = byId('key-search');
  const onType = () => {
    window.clearTimeout(timer);
    const value = withoutSecret(input);
    timer = window.setTimeout(() => {
      if (value !== search.q) {
        search.q = value;
        restart();
      }
    }, SEARCH_DELAY_MS);
  };
  for (const type of ['input', 'change', 'search']) input.addEventListener(type, onType);
  byId('key-tenant').addEventListener('change', (event) => {
    search.tenant = event.currentTarget.value;
    restart();
  });
  byId('key-status').addEventListener('change', (event) => {
    const value = event.currentTarget.value;
    search.status = STATUS_CHOICES.includes(value) ? value : '';
    restart();
  });
  const turn = (delta, button, other) => {
    search.page += delta;
    load().then(() => {
      if (button.disabled || !button.getClientRects().length) other.focus();
    });
  };
  byId('keys-prev').addEventListener('click', (event) => {
    if (search.page > 0) turn(-1, event.currentTarget, byId('keys-next'));
  });
  byId('keys-next').addEventListener('click', (event) => {
    if (search.nextCursor) turn(1, event.currentTarget, byId('keys-prev'));
  });
  byId('keys-retry').addEventListener('click', () => load().then(() => announce('Search answered again.')));
}

/** Draws the rows again (times switched to UTC or back). */
export function rerenderKeySearch() {
  render();
}
