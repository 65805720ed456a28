// One tenant (`#/tenants/<id>`): its users with their actions (user-actions.js), links to its keys
// and its audit trail, and incident response: revoke every key that still works, behind a
// confirmation that asks for the tenant's name to be typed.

import { getTenant, revokeAll } from './admin-api.js';
import { onSignOut } from './admin-session.js';
import { rememberTenants, state } from './admin-state.js';
import { timeEl } from './credential.js';
import { openDialog } from './dialogs.js';
import { append, byId, clear, clearFieldErrors, fieldError, h, notice, show } from './dom.js';
import { plural } from './format.js';
import { ApiError, messageOf } from './http.js';
import { announce } from './notify.js';
import { onEnter, routeHash } from './router.js';
import { loadTenants } from './tenants.js';
import { initUserActions, userRow } from './user-actions.js';

const view = { id: null, tenant: null, users: [], loaded: false, seq: 0 };

function liveKeysOf(tenant) {
  if (Number.isFinite(tenant?.live_keys)) return tenant.live_keys;
  const known = state.tenants.get(tenant?.id);
  return Number.isFinite(known?.live_keys) ? known.live_keys : null;
}

function renderUsers() {
  const body = clear(byId('users-body'));
  for (const user of view.users) body.append(userRow(user));
  show(byId('users-empty'), view.users.length === 0);
  show(byId('users-panel'), view.users.length > 0);
  byId('users-caption').textContent = `Users of ${view.tenant.name}`;
}

function render() {
  if (!view.loaded) return;
  const { tenant } = view;
  show(byId('tenant-loading'), false);
  show(byId('tenant-body'));
  byId('tenant-title').textContent = String(tenant.name);
  const meta = clear(byId('tenant-meta'));
  append(meta, [
    h('code', { class: 'masked' }, String(tenant.id)),
    tenant.created_at ? [' · created ', timeEl(tenant.created_at, { dateOnly: true })] : null,
    ` · ${plural(view.users.length, 'user', 'users')}`,
  ]);
  byId('tenant-keys-link').href = routeHash('keys', { tenant: tenant.id });
  byId('tenant-audit-link').href = routeHash('audit', { tenant: tenant.id });
  const live = liveKeysOf(tenant);
  byId('incident-text').textContent =
    live === null
      ? `Revoke every key of ${tenant.name} that still works (active, expiring or in grace) at once, for example after a leak. The partner then creates new keys in the portal.`
      : `${tenant.name} has ${plural(live, 'live key', 'live keys')} (active, expiring or in grace). Revoke them all at once, for example after a leak: every request with them is refused immediately, and the partner creates new keys in the portal.`;
  document.title = `${tenant.name} · Idunox staff console`;
  renderUsers();
}

/** Loads the tenant of the address. */
async function load(id) {
  const seq = ++view.seq;
  if (view.id !== id) {
    Object.assign(view, { id, tenant: null, users: [], loaded: false });
    byId('tenant-title').textContent = 'Tenant';
    clear(byId('tenant-meta'));
    show(byId('tenant-body'), false);
  }
  if (!view.loaded) show(byId('tenant-loading'));
  byId('tenant-retry').disabled = true;
  try {
    const data = await getTenant(id);
    if (seq !== view.seq || !state.signedIn) return;
    view.tenant = data?.tenant && typeof data.tenant === 'object' ? data.tenant : { id, name: id };
    view.users = Array.isArray(data?.users) ? data.users : [];
    rememberTenants([view.tenant]);
    view.loaded = true;
    show(byId('tenant-error'), false);
    render();
  } catch (error) {
    if (seq !== view.seq || !state.signedIn) return;
    show(byId('tenant-loading'), false);
    byId('tenant-error-text').textContent =
      error instanceof ApiError && error.status === 404
        ? `There is no tenant with the id ${id}.`
        : `The tenant could not be loaded: ${messageOf(error)}`;
    show(byId('tenant-error'));
  } finally {
    if (seq === view.seq) byId('tenant-retry').disabled = false;
  }
}

/** Shows a user's new state in its row, or adds the row (a user just provisioned). */
function userChanged(user, { added = false } = {}) {
  const index = view.users.findIndex((u) => u.id === user.id);
  if (index >= 0) view.users[index] = { ...view.users[index], ...user };
  else if (added) view.users.push(user);
  render();
}

// ---------------------------------------------------------------- revoke all keys

function openRevokeAll(event) {
  const { tenant } = view;
  if (!tenant) return;
  const form = byId('revoke-all-form');
  form.reset();
  clearFieldErrors(form);
  notice(byId('revoke-all-error'), '');
  append(clear(byId('revoke-all-title')), ['Revoke every key of “', h('span', { class: 'dialog-name' }, String(tenant.name)), '”?']);
  const live = liveKeysOf(tenant);
  byId('revoke-all-text').textContent = `${
    live === null ? 'Every key that still works' : `All ${plural(live, 'live key', 'live keys')}`
  } (active, expiring or in grace) will be refused from the next request on, in every service. This cannot be undone: the partner has to create new keys and deploy them.`;
  append(clear(byId('revoke-all-label')), ['Type ', h('strong', { class: 'dialog-name' }, String(tenant.name)), ' to confirm']);
  openDialog(byId('revoke-all-dialog'), event.currentTarget, byId('revoke-all-confirm'));
}

function typedName() {
  return byId('revoke-all-confirm').value.trim();
}

async function submitRevokeAll(event) {
  event.preventDefault();
  const { tenant } = view;
  const input = byId('revoke-all-confirm');
  clearFieldErrors(byId('revoke-all-form'));
  notice(byId('revoke-all-error'), '');
  if (!tenant) return;
  if (typedName() !== String(tenant.name).trim()) {
    fieldError(
      input,
      typedName() ? 'That is not the tenant’s name: nothing was revoked.' : 'Type the tenant’s name to confirm.',
    );
    input.focus();
    return;
  }
  const submit = byId('revoke-all-submit');
  submit.disabled = true;
  try {
    const data = await revokeAll(tenant.id);
    const n = Number(data?.revoked) || 0;
    const dialog = byId('revoke-all-dialog');
    dialog.returnFocusTo = false;
    dialog.close();
    announce(n ? `${plural(n, 'key', 'keys')} of ${tenant.name} revoked.` : `${tenant.name} had no live key: nothing to revoke.`);
    byId('tenant-title').focus();
    // The counts changed: ask again rather than guess.
    await Promise.all([load(tenant.id), loadTenants()]);
  } catch (error) {
    if (state.signedIn) notice(byId('revoke-all-error'), messageOf(error));
  } finally {
    submit.disabled = false;
  }
}

function reset() {
  view.seq += 1;
  Object.assign(view, { id: null, tenant: null, users: [], loaded: false });
  clear(byId('users-body'));
  show(byId('tenant-body'), false);
  show(byId('tenant-error'), false);
}

/** Wires the view, its users and incident response. */
export function initTenantView() {
  onEnter('tenant', (params) => load(params.id));
  onSignOut(reset);
  initUserActions({ tenant: () => view.tenant, changed: userChanged });
  byId('tenant-retry').addEventListener('click', () => view.id && load(view.id));
  byId('revoke-all-open').addEventListener('click', openRevokeAll);
  byId('revoke-all-form').addEventListener('submit', submitRevokeAll);
}

/** Draws the tenant again (times switched to UTC or back). */
export function rerenderTenantView() {
  render();
}
