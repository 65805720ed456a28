// The key list: search, status filters with counts, sort, the "expire soon" callout, paging,
// and one compact row per key. It asks the server for one page at a time with the list query
// (`status`, `q`, `sort`, `limit`, `cursor`) and shows the `counts` of the whole tenant.

import { listCredentials, messageOf, session } from './api.js';
import { LIVE_STATUSES, STATUSES, STATUS_LABELS, expiryCell, nameEl, statusBadge, timeEl } from './credential.js';
import { byId, clear, h, show } from './dom.js';
import { keyPrefixText } from './config.js';
import { plural } from './format.js';
import { announce } from './notify.js';
import { isRestricted, restrictionSummary } from './restrictions.js';
import { state } from './state.js';

const SEARCH_DELAY_MS = 250;

/** The query and contents of a fresh list: live keys, newest first, nothing loaded. */
function freshList() {
  return {
    q: '',
    statuses: new Set(LIVE_STATUSES),
    sort: 'created',
    /** `cursors[i]`: the cursor that asks for page `i` (`null` for the first). */
    cursors: [null],
    page: 0,
    items: [],
    counts: null,
    nextCursor: null,
    loaded: false,
  };
}

const list = { ...freshList(), limit: 25, seq: 0 };

let actions = { rotate() {}, revoke() {}, edit() {} };
let searchTimer = 0;

function total(counts, statuses = STATUSES) {
  return counts ? statuses.reduce((sum, s) => sum + (Number(counts[s]) || 0), 0) : 0;
}

function selectedStatuses() {
  return STATUSES.filter((s) => list.statuses.has(s));
}

// ---------------------------------------------------------------- rows

function pencilIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  for (const [k, v] of Object.entries({ viewBox: '0 0 24 24', width: '16', height: '16', 'aria-hidden': 'true', focusable: 'false' })) {
    svg.setAttribute(k, v);
  }
  const path = document.createElementNS(ns, 'path');
  for (const [k, v] of Object.entries({
    d: 'M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4',
    fill: 'none',
    stroke: 'currentColor',
    'stroke-width': '2',
    'stroke-linejoin': 'round',
  })) {
    path.setAttribute(k, v);
  }
  svg.append(path);
  return svg;
}

/** A key named by id, as the list reads it: its masked key (from this page if loaded). */
function maskedById(id) {
  const known = list.items.find((x) => x.id === id);
  return known ? known.masked_key : `${keyPrefixText()}${id}_••••`;
}

/**
 * The rotation link of a key, kept on both rows for as long as they are listed (also once the
 * old key is revoked or expired): "Replaced by …" on the predecessor, "Replaces …" on the
 * successor, each naming the other by its masked key.
 */
function lineageEl(c) {
  const parts = [];
  if (typeof c.replaced_by === 'string' && c.replaced_by) {
    parts.push(h('span', { class: 'lineage-part' }, 'Replaced by ', h('code', {}, maskedById(c.replaced_by))));
  }
  if (typeof c.replaces === 'string' && c.replaces) {
    parts.push(h('span', { class: 'lineage-part' }, 'Replaces ', h('code', {}, maskedById(c.replaces))));
  }
  return parts.length ? h('span', { class: 'lineage' }, parts) : null;
}

/**
 * "Restricted", at a glance: a compact button whose accessible name says so, which shows the
 * scopes and allowed addresses below the name on demand.
 */
function restrictedEl(c) {
  if (!isRestricted(c)) return [];
  const detailId = `restrictions-${c.id}`;
  const summary = restrictionSummary(c);
  const button = h(
    'button',
    {
      class: 'restricted-badge',
      type: 'button',
      'data-action': 'restrictions',
      'aria-expanded': 'false',
      'aria-controls': detailId,
      title: summary,
    },
    'Restricted',
    h('span', { class: 'visually-hidden' }, ': show its scopes and addresses'),
  );
  const detail = h('span', { class: 'restriction-detail', id: detailId, hidden: true }, summary);
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    show(detail, open);
  });
  return [button, detail];
}

function keyRow(c) {
  const restricted = restrictedEl(c);
  const label = c.name ? `${c.name} (${c.masked_key})` : c.masked_key;
  const buttons = h('div', { class: 'row-actions' });
  const live = c.status === 'active' || c.status === 'expiring';
  if (live) {
    const rotate = h('button', { class: 'button small', type: 'button', 'data-action': 'rotate', 'aria-label': `Rotate key ${label}` }, 'Rotate');
    rotate.addEventListener('click', () => actions.rotate(c, rotate));
    buttons.append(rotate);
  }
  if (live || c.status === 'grace') {
    const edit = h(
      'button',
      { class: 'button small icon-button', type: 'button', 'data-action': 'edit', 'aria-label': `Edit key ${label}`, title: 'Edit name and restrictions' },
      pencilIcon(),
    );
    edit.addEventListener('click', () => actions.edit(c, edit));
    const revoke = h('button', { class: 'button small danger-outline', type: 'button', 'data-action': 'revoke', 'aria-label': `Revoke key ${label}` }, 'Revoke');
    revoke.addEventListener('click', () => actions.revoke(c, revoke));
    buttons.append(edit, revoke);
  }
  return h(
    'tr',
    { 'data-id': c.id, 'data-status': STATUSES.includes(c.status) ? c.status : 'unknown', class: 'key-row', tabindex: '-1' },
    h(
      'td',
      { class: 'col-name', 'data-label': 'Name' },
      h('span', { class: 'name-line' }, nameEl(c), restricted[0]),
      restricted[1],
      lineageEl(c),
    ),
    h('td', { class: 'col-key', 'data-label': 'Key' }, h('code', { class: 'masked' }, c.masked_key)),
    h('td', { class: 'col-status', 'data-label': 'Status' }, statusBadge(c.status)),
    h('td', { class: 'col-expiry', 'data-label': 'Expiry' }, expiryCell(c)),
    h(
      'td',
      { class: 'col-used', 'data-label': 'Last used' },
      c.last_used_at ? timeEl(c.last_used_at, { dateOnly: true }) : h('span', { class: 'muted' }, 'Never'),
    ),
    h('td', { class: 'actions-cell' }, buttons),
  );
}

// ---------------------------------------------------------------- rendering

function renderChips() {
  for (const chip of byId('status-filters').querySelectorAll('button[data-status]')) {
    const status = chip.dataset.status;
    chip.setAttribute('aria-pressed', list.statuses.has(status) ? 'true' : 'false');
    chip.querySelector('.count').textContent = list.counts ? String(Number(list.counts[status]) || 0) : '';
  }
}

function onlyExpiringShown() {
  return list.statuses.size === 1 && list.statuses.has('expiring') && !list.q;
}

function renderCallout() {
  const n = list.counts ? Number(list.counts.expiring) || 0 : 0;
  show(byId('expiring-callout'), n > 0);
  if (n > 0) {
    const days = state.config.expiring_threshold_days;
    byId('expiring-callout-text').textContent = `${n} ${n === 1 ? 'key expires' : 'keys expire'} within ${plural(days, 'day', 'days')}.`;
    show(byId('expiring-show'), !onlyExpiringShown());
  }
}

function renderSummary() {
  const tenant = session.get()?.tenant?.name;
  const all = total(list.counts);
  let summary = 'No keys yet';
  if (all) {
    const parts = STATUSES.map((s) => [s, Number(list.counts[s]) || 0])
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${STATUS_LABELS[s].toLowerCase()}`);
    summary = `${plural(all, 'key', 'keys')}: ${parts.join(', ')}`;
  }
  byId('tenant-line').textContent = tenant ? `${tenant} · ${summary}` : summary;
}

function renderPager() {
  const start = list.page * list.limit + 1;
  const end = start + list.items.length - 1;
  const multi = list.page > 0 || Boolean(list.nextCursor);
  show(byId('pager'), multi);
  if (!multi) return;
  const known = list.q ? null : total(list.counts, selectedStatuses());
  byId('pager-text').textContent = known !== null ? `Keys ${start}–${end} of ${known}` : `Keys ${start}–${end}`;
  byId('page-prev').disabled = list.page === 0;
  byId('page-next').disabled = !list.nextCursor;
}

function describeQuery() {
  const statuses = selectedStatuses().map((s) => STATUS_LABELS[s].toLowerCase());
  const parts = [statuses.length === STATUSES.length ? 'all statuses' : statuses.join(', ') || 'no status'];
  if (list.q) parts.push(`matching “${list.q}”`);
  parts.push(list.sort === 'expires' ? 'soonest expiry first' : 'newest first');
  return parts.join(', ');
}

function render() {
  if (!list.loaded) return;
  show(byId('keys-loading'), false);
  const any = total(list.counts) > 0;
  show(byId('keys-empty'), !any);
  show(byId('keys-tools'), any);
  renderChips();
  renderCallout();
  renderSummary();
  const rows = any && list.items.length > 0;
  show(byId('keys-panel'), rows);
  show(byId('keys-nomatch'), any && !rows);
  if (any && !rows) byId('keys-nomatch-text').textContent = `No key is ${describeQuery()}.`;
  byId('keys-caption').textContent = `API keys of your organisation: ${describeQuery()}, page ${list.page + 1}`;
  const body = clear(byId('keys-body'));
  if (rows) for (const c of list.items) body.append(keyRow(c));
  renderPager();
}

/** Renders the rows again (e.g. after times switched to UTC). */
export function rerender() {
  render();
}

// ---------------------------------------------------------------- loading

function showError(error) {
  const stale = list.loaded && list.items.length > 0;
  byId('keys-error-text').textContent = stale
    ? `The key list could not be refreshed: ${messageOf(error)} The list below may be out of date.`
    : `The key list could not be loaded: ${messageOf(error)}`;
  show(byId('keys-error'));
  show(byId('keys-loading'), false);
}

/**
 * Asks the server for the current page. `quiet`: no announcement. Answers that arrive after a
 * newer request started are ignored.
 */
export async function loadKeys({ quiet = true } = {}) {
  const seq = ++list.seq;
  const query = {
    status: selectedStatuses(),
    q: list.q,
    sort: list.sort,
    limit: list.limit,
    cursor: list.cursors[list.page],
  };
  if (!list.loaded) show(byId('keys-loading'));
  byId('keys-retry').disabled = true;
  try {
    const data = await listCredentials(query);
    if (seq !== list.seq || !state.signedIn) return;
    list.items = Array.isArray(data.credentials) ? data.credentials : [];
    list.counts = data.counts && typeof data.counts === 'object' ? data.counts : null;
    list.nextCursor = typeof data.next_cursor === 'string' && data.next_cursor ? data.next_cursor : null;
    list.cursors[list.page + 1] = list.nextCursor;
    list.loaded = true;
    show(byId('keys-error'), false);
    render();
    if (!quiet) announce('Key list updated.');
  } catch (error) {
    if (seq !== list.seq || !state.signedIn) return;
    showError(error);
  } finally {
    if (seq === list.seq) byId('keys-retry').disabled = false;
  }
}

function restart() {
  list.page = 0;
  list.cursors = [null];
  return loadKeys();
}

// ---------------------------------------------------------------- changes made on this page

/**
 * Shows the result of an action at once, without reloading (rows stay where the reader is):
 * `replaced`: `[before, after]` pairs; `inserted`: `{credential, above}` (above that row's id,
 * else at the top). Counts follow.
 */
export function applyChange({ replaced = [], inserted = [] }) {
  if (!list.counts) list.counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const [before, after] of replaced) {
    if (!after) continue;
    if (before && before.status in list.counts) list.counts[before.status] = Math.max(0, list.counts[before.status] - 1);
    if (after.status in list.counts) list.counts[after.status] += 1;
    const index = list.items.findIndex((x) => x.id === after.id);
    if (index >= 0) list.items[index] = after;
  }
  for (const { credential, above } of inserted) {
    if (!credential || list.items.some((x) => x.id === credential.id)) continue;
    if (credential.status in list.counts) list.counts[credential.status] += 1;
    const index = above ? list.items.findIndex((x) => x.id === above) : -1;
    list.items.splice(Math.max(index, 0), 0, credential);
  }
  list.loaded = true;
  render();
}

/** Moves focus to a key's row (after rotate or revoke); the heading if it is not shown. */
export function focusRow(id) {
  const row = document.querySelector(`#keys-body tr[data-id="${CSS.escape(id)}"]`);
  (row || byId('keys-title')).focus();
}

// ---------------------------------------------------------------- controls

function setFilter({ statuses, q, sort }) {
  // A search still waiting for the typing to pause would undo this.
  window.clearTimeout(searchTimer);
  if (statuses) list.statuses = new Set(statuses);
  if (q !== undefined) {
    list.q = q;
    byId('key-search').value = q;
  }
  if (sort) {
    list.sort = sort;
    byId('key-sort').value = sort;
  }
  return restart();
}

/** Back to the defaults (sign-out): no rows, no query, live keys newest first. */
export function resetKeyList() {
  window.clearTimeout(searchTimer);
  list.seq += 1;
  Object.assign(list, freshList());
  byId('key-search').value = '';
  byId('key-sort').value = 'created';
  clear(byId('keys-body'));
  show(byId('keys-error'), false);
  for (const id of ['keys-panel', 'keys-empty', 'keys-nomatch', 'keys-tools', 'expiring-callout', 'pager']) show(byId(id), false);
}

/** Wires the toolbar, callout and pager; `handlers`: `{rotate, revoke, edit}` for row buttons. */
export function initKeyList(handlers) {
  actions = handlers;
  const chips = byId('status-filters');
  for (const status of STATUSES) {
    const chip = h(
      'button',
      { class: `chip chip-${status}`, type: 'button', 'data-status': status, 'aria-pressed': 'false' },
      h('span', { class: 'chip-label' }, STATUS_LABELS[status]),
      ' ',
      h('span', { class: 'count' }),
    );
    chip.addEventListener('click', () => {
      if (list.statuses.has(status)) list.statuses.delete(status);
      else list.statuses.add(status);
      renderChips();
      restart();
    });
    chips.append(chip);
  }
  const search = byId('key-search');
  const onSearch = () => {
    window.clearTimeout(searchTimer);
    const value = search.value.trim();
    searchTimer = window.setTimeout(() => {
      if (value !== list.q) {
        list.q = value;
        restart();
      }
    }, SEARCH_DELAY_MS);
  };
  for (const type of ['input', 'change', 'search']) search.addEventListener(type, onSearch);
  byId('key-sort').addEventListener('change', (event) => {
    list.sort = event.currentTarget.value === 'expires' ? 'expires' : 'created';
    restart();
  });
  byId('page-size').addEventListener('change', (event) => {
    const n = Number(event.currentTarget.value);
    list.limit = [25, 50, 100].includes(n) ? n : 25;
    restart();
  });
  // Focus stays on the pager button pressed, or moves to the other one once it is disabled.
  const turn = (delta, button, other) => {
    list.page += delta;
    loadKeys().then(() => {
      if (button.disabled || !button.getClientRects().length) other.focus();
    });
  };
  byId('page-prev').addEventListener('click', (event) => {
    if (list.page > 0) turn(-1, event.currentTarget, byId('page-next'));
  });
  byId('page-next').addEventListener('click', (event) => {
    if (list.nextCursor) turn(1, event.currentTarget, byId('page-prev'));
  });
  byId('expiring-show').addEventListener('click', () => {
    setFilter({ statuses: ['expiring'], q: '', sort: 'expires' }).then(() => {
      announce(`Showing the keys that expire within ${plural(state.config.expiring_threshold_days, 'day', 'days')}, soonest first.`);
      byId('keys-title').focus();
    });
  });
  byId('filters-reset').addEventListener('click', () => {
    setFilter({ statuses: LIVE_STATUSES, q: '' }).then(() => byId('key-search').focus());
  });
  byId('keys-retry').addEventListener('click', () => loadKeys({ quiet: false }));
  byId('refresh').addEventListener('click', () => loadKeys({ quiet: false }));
}
