// The tenant list (`#/tenants`): every partner organisation with its users and live keys, a
// filter as you type, and "New tenant". It also keeps the tenant pickers of the key search and
// the audit trail filled.

import { createTenant, listTenants } from './admin-api.js';
import { onSignOut } from './admin-session.js';
import { rememberTenants, state } from './admin-state.js';
import { timeEl } from './credential.js';
import { openDialog } from './dialogs.js';
import { byId, clear, clearFieldErrors, fieldError, h, notice, show } from './dom.js';
import { plural } from './format.js';
import { ApiError, messageOf } from './http.js';
import { announce } from './notify.js';
import { onEnter, routeHash } from './router.js';

const list = { tenants: [], loaded: false, seq: 0, filter: '' };
/** The last tenant list request, shared by whoever needs the tenants meanwhile. */
let pending = null;
/** Called with the tenant list whenever it changes (the pickers). */
const listeners = [];

function byName(a, b) {
  return String(a.name).localeCompare(String(b.name), undefined, { sensitivity: 'base' }) || String(a.id).localeCompare(String(b.id));
}

function tenantRow(t) {
  return h(
    'tr',
    { 'data-id': t.id },
    h(
      'td',
      { class: 'col-name', 'data-label': 'Name' },
      h('a', { class: 'tenant-link', href: routeHash('tenant', { id: t.id }), title: String(t.name) }, String(t.name)),
    ),
    h('td', { class: 'col-id', 'data-label': 'Tenant id' }, h('code', { class: 'masked' }, String(t.id))),
    h('td', { class: 'col-count', 'data-label': 'Users' }, Number.isFinite(t.users) ? String(t.users) : '—'),
    h('td', { class: 'col-count', 'data-label': 'Live keys' }, Number.isFinite(t.live_keys) ? String(t.live_keys) : '—'),
    h('td', { class: 'col-created', 'data-label': 'Created' }, t.created_at ? timeEl(t.created_at, { dateOnly: true }) : ''),
  );
}

function matches(t, needle) {
  return !needle || String(t.name).toLowerCase().includes(needle) || String(t.id).toLowerCase().includes(needle);
}

function render() {
  if (!list.loaded) return;
  show(byId('tenants-loading'), false);
  const any = list.tenants.length > 0;
  const needle = list.filter.toLowerCase();
  const shown = list.tenants.filter((t) => matches(t, needle));
  show(byId('tenants-empty'), !any);
  show(byId('tenants-tools'), any);
  show(byId('tenants-panel'), shown.length > 0);
  show(byId('tenants-nomatch'), any && shown.length === 0);
  if (any && !shown.length) byId('tenants-nomatch-text').textContent = `No tenant name or id contains “${list.filter}”.`;
  const liveKeys = list.tenants.reduce((sum, t) => sum + (Number(t.live_keys) || 0), 0);
  byId('tenants-summary').textContent = any
    ? `${plural(list.tenants.length, 'tenant', 'tenants')} · ${plural(liveKeys, 'live key', 'live keys')}`
    : '';
  const body = clear(byId('tenants-body'));
  for (const t of shown) body.append(tenantRow(t));
}

/** Most pages of tenants asked for at once (1000 tenants a page). */
const MAX_PAGES = 10;

/** Every tenant, following `next_cursor` (at most `MAX_PAGES` pages). */
async function allTenants() {
  const tenants = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const data = await listTenants(cursor);
    if (Array.isArray(data?.tenants)) tenants.push(...data.tenants);
    cursor = typeof data?.next_cursor === 'string' && data.next_cursor ? data.next_cursor : null;
    if (!cursor) break;
  }
  return tenants;
}

/** Asks the server for the tenants; every caller meanwhile shares the one request. */
export function loadTenants() {
  if (pending) return pending;
  const seq = ++list.seq;
  if (!list.loaded) show(byId('tenants-loading'));
  byId('tenants-retry').disabled = true;
  pending = allTenants()
    .then((data) => {
      if (seq !== list.seq || !state.signedIn) return list.tenants;
      const tenants = data.filter((t) => t && typeof t.id === 'string').sort(byName);
      const changed = !list.loaded || JSON.stringify(tenants) !== JSON.stringify(list.tenants);
      list.tenants = tenants;
      rememberTenants(list.tenants);
      list.loaded = true;
      show(byId('tenants-error'), false);
      show(byId('tenants-loading'), false);
      // Rows that did not change stay as they are: focus, hover and a click on its way survive.
      if (changed) {
        render();
        for (const listener of listeners) listener(list.tenants);
      }
      return list.tenants;
    })
    .catch((error) => {
      if (seq !== list.seq || !state.signedIn) return list.tenants;
      byId('tenants-error-text').textContent = list.loaded
        ? `The tenant list could not be refreshed: ${messageOf(error)} The list below may be out of date.`
        : `The tenant list could not be loaded: ${messageOf(error)}`;
      show(byId('tenants-error'));
      show(byId('tenants-loading'), false);
      return list.tenants;
    })
    .finally(() => {
      if (seq === list.seq) byId('tenants-retry').disabled = false;
      pending = null;
    });
  return pending;
}

/** The tenants, loading them first if this session has not yet. */
export function knownTenants() {
  return list.loaded ? Promise.resolve(list.tenants) : loadTenants();
}

/**
 * Fills a tenant picker (`<select>` whose first option is "All tenants") and keeps it filled;
 * `selected()` says which tenant id to keep chosen.
 */
export function bindTenantPicker(select, selected) {
  const fill = (tenants) => {
    const chosen = selected() || select.value;
    const first = select.options[0];
    select.replaceChildren(first);
    for (const t of tenants) select.append(h('option', { value: t.id }, String(t.name)));
    if (chosen && !tenants.some((t) => t.id === chosen)) {
      // A tenant from the address that the list does not hold (yet): keep it choosable.
      select.append(h('option', { value: chosen }, chosen));
    }
    select.value = chosen || '';
  };
  listeners.push(fill);
  fill(list.tenants);
}

// ---------------------------------------------------------------- new tenant

function openNewTenant(event) {
  const form = byId('tenant-form');
  form.reset();
  clearFieldErrors(form);
  notice(byId('tenant-form-error'), '');
  openDialog(byId('tenant-dialog'), event.currentTarget, byId('tenant-name'));
}

async function submitNewTenant(event) {
  event.preventDefault();
  const input = byId('tenant-name');
  clearFieldErrors(byId('tenant-form'));
  notice(byId('tenant-form-error'), '');
  const name = input.value.trim();
  const length = [...name].length;
  if (length < 1 || length > 100) {
    fieldError(input, length ? 'The name can be at most 100 characters long.' : 'Enter the organisation’s name.');
    input.focus();
    return;
  }
  const submit = byId('tenant-submit');
  submit.disabled = true;
  try {
    const data = await createTenant(name);
    const tenant = data?.tenant;
    const dialog = byId('tenant-dialog');
    dialog.returnFocusTo = false;
    dialog.close();
    await loadTenants();
    announce(`Tenant “${tenant?.name ?? name}” created. Provision its first user now.`);
    if (tenant?.id) window.location.hash = routeHash('tenant', { id: tenant.id });
  } catch (error) {
    if (!state.signedIn) return;
    if (error instanceof ApiError && error.status === 422) {
      fieldError(input, error.message);
      input.focus();
    } else {
      notice(byId('tenant-form-error'), messageOf(error));
    }
  } finally {
    submit.disabled = false;
  }
}

/** Forgets the list (sign-out). */
function reset() {
  list.seq += 1;
  pending = null;
  Object.assign(list, { tenants: [], loaded: false, filter: '' });
  state.tenants.clear();
  byId('tenant-filter').value = '';
  byId('tenants-count').textContent = '';
  clear(byId('tenants-body'));
  for (const id of ['tenants-panel', 'tenants-empty', 'tenants-nomatch', 'tenants-tools', 'tenants-error']) show(byId(id), false);
  for (const listener of listeners) listener([]);
}

/** Wires the view, its filter and the new-tenant dialog. */
export function initTenants() {
  onEnter('tenants', () => loadTenants());
  onSignOut(reset);
  byId('tenant-filter').addEventListener('input', (event) => {
    list.filter = event.currentTarget.value.trim();
    render();
    const needle = list.filter.toLowerCase();
    const n = list.tenants.filter((t) => matches(t, needle)).length;
    byId('tenants-count').textContent = list.filter ? `${plural(n, 'tenant matches', 'tenants match')}.` : '';
  });
  byId('tenants-refresh').addEventListener('click', () => loadTenants().then(() => announce('Tenant list updated.')));
  byId('tenants-retry').addEventListener('click', () => loadTenants());
  byId('tenant-new').addEventListener('click', openNewTenant);
  byId('tenant-form').addEventListener('submit', submitNewTenant);
}

/** Draws the rows again (times switched to UTC or back). */
export function rerenderTenants() {
  render();
}
