// The audit trail as people read it, shared by the partner portal's Activity view and the staff
// console's audit view: what each action means, who acted (a partner user, Idunox staff, or an
// anonymous sign-in attempt), and a list with loading, error, empty and paging states. Every
// value from the API is inserted as text.

import { messageOf } from './http.js';
import { byId, clear, h, show } from './dom.js';
import { timeEl } from './credential.js';

const ACTION_LABELS = {
  'login.succeeded': 'Signed in',
  'login.failed': 'Sign-in failed',
  'login.throttled': 'Sign-in throttled',
  'credential.created': 'Key created',
  'credential.rotated': 'Key rotated',
  'credential.revoked': 'Key revoked',
  'credential.updated': 'Key changed',
  'user.password_changed': 'Password changed',
  'user.logged_out': 'Signed out',
  'tenant.created': 'Organisation created',
  'tenant.keys_revoked': 'All keys revoked',
  'user.provisioned': 'User added',
  'user.password_reset': 'Password reset',
  'user.disabled': 'User disabled',
  'user.enabled': 'User enabled',
  'user.unlocked': 'Sign-in unlocked',
  'staff.logged_out': 'Signed out',
};

/** A readable name for an action code (the code itself when unknown). */
export function actionLabel(action) {
  return ACTION_LABELS[action] || String(action);
}

/** `staff`, `user` or `anonymous` (an entry written before actors had a kind reads by its fields). */
export function actorKind(actor) {
  if (!actor || typeof actor !== 'object') return 'anonymous';
  if (actor.kind === 'staff' || actor.kind === 'user') return actor.kind;
  if (actor.staff_id) return 'staff';
  return actor.user_id || actor.email ? 'user' : 'anonymous';
}

/**
 * Who acted, as a cell: `labels` names each kind for this page's readers, e.g.
 * `{staff: 'Idunox staff', user: null, anonymous: 'Unknown'}` (`null`: the email alone).
 */
function actorEl(actor, labels) {
  const kind = actorKind(actor);
  const email = actor && typeof actor.email === 'string' ? actor.email : '';
  const label = labels[kind];
  return h(
    'span',
    { class: `actor actor-${kind}`, 'data-actor': kind },
    label ? h('span', { class: 'actor-kind' }, label) : null,
    email ? h('span', { class: label ? 'actor-email sub' : 'actor-email', title: email }, email) : null,
  );
}

function valueText(value) {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.length ? value.map(valueText).join(', ') : 'none';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The entry's `detail` object as one line of text: "grace hours: 48 · successor: …". */
export function detailText(detail) {
  if (detail === null || detail === undefined) return '';
  if (typeof detail !== 'object' || Array.isArray(detail)) return valueText(detail);
  return Object.entries(detail)
    .map(([name, value]) => `${name.replace(/_/g, ' ')}: ${valueText(value)}`)
    .join(' · ');
}

/**
 * One table row. `options.labels`: how actor kinds read (see `actorEl`); `options.tenant(entry)`:
 * the node of a leading tenant cell, or leave it out for a page of one tenant.
 */
export function auditRow(entry, options) {
  const detail = detailText(entry.detail);
  return h(
    'tr',
    { 'data-id': String(entry.id), 'data-action': String(entry.action), class: 'audit-row' },
    h('td', { class: 'col-when', 'data-label': 'When' }, entry.at ? timeEl(entry.at) : ''),
    options.tenant ? h('td', { class: 'col-tenant', 'data-label': 'Tenant' }, options.tenant(entry)) : null,
    h(
      'td',
      { class: 'col-action', 'data-label': 'What' },
      h('span', { class: 'action-label', title: String(entry.action) }, actionLabel(entry.action)),
    ),
    h('td', { class: 'col-actor', 'data-label': 'Who' }, actorEl(entry.actor, options.labels)),
    h(
      'td',
      { class: 'col-key', 'data-label': 'Key' },
      entry.credential_id ? h('code', { class: 'masked' }, String(entry.credential_id)) : h('span', { class: 'muted' }, '—'),
    ),
    h('td', { class: 'col-detail', 'data-label': 'Details' }, detail ? h('span', { class: 'detail', title: detail }, detail) : ''),
  );
}

/**
 * A paged audit list bound to the elements `<prefix>-body`, `-loading`, `-error`, `-error-text`,
 * `-retry`, `-empty`, `-panel`, `-pager`, `-pager-text`, `-newer`, `-older` and `-refresh`.
 * `fetchPage({limit, before})` asks the server for a page (`{entries, next_cursor}`); `row` as
 * in `auditRow`; `isActive()` says whether answers still matter (false once signed out).
 * Returns `{load, restart, reset, render}` (`render`: draw the rows again, e.g. in UTC).
 */
export function auditList({ prefix, fetchPage, row, isActive, pageSize = 50 }) {
  const el = (name) => byId(`${prefix}-${name}`);
  const list = { cursors: [null], page: 0, entries: [], nextCursor: null, loaded: false, seq: 0 };

  function render() {
    if (!list.loaded) return;
    show(el('loading'), false);
    const any = list.entries.length > 0;
    show(el('panel'), any);
    show(el('empty'), !any && list.page === 0);
    const body = clear(el('body'));
    for (const entry of list.entries) body.append(auditRow(entry, row));
    const multi = list.page > 0 || Boolean(list.nextCursor);
    show(el('pager'), multi);
    if (multi) {
      const start = list.page * pageSize + 1;
      el('pager-text').textContent = `Entries ${start}–${start + list.entries.length - 1}, newest first`;
      el('newer').disabled = list.page === 0;
      el('older').disabled = !list.nextCursor;
    }
  }

  async function load() {
    const seq = ++list.seq;
    if (!list.loaded) show(el('loading'));
    el('retry').disabled = true;
    try {
      const data = await fetchPage({ limit: pageSize, before: list.cursors[list.page] });
      if (seq !== list.seq || !isActive()) return;
      list.entries = Array.isArray(data?.entries) ? data.entries : [];
      list.nextCursor = typeof data?.next_cursor === 'string' && data.next_cursor ? data.next_cursor : null;
      list.cursors[list.page + 1] = list.nextCursor;
      list.loaded = true;
      show(el('error'), false);
      render();
    } catch (error) {
      if (seq !== list.seq || !isActive()) return;
      el('error-text').textContent = list.loaded
        ? `The audit trail could not be refreshed: ${messageOf(error)} The entries below may be out of date.`
        : `The audit trail could not be loaded: ${messageOf(error)}`;
      show(el('error'));
      show(el('loading'), false);
    } finally {
      if (seq === list.seq) el('retry').disabled = false;
    }
  }

  /** From the newest entries again (a new filter, or coming back to the view). */
  function restart() {
    list.page = 0;
    list.cursors = [null];
    return load();
  }

  /** Forgets every entry (sign-out). */
  function reset() {
    list.seq += 1;
    Object.assign(list, { cursors: [null], page: 0, entries: [], nextCursor: null, loaded: false });
    clear(el('body'));
    for (const name of ['panel', 'empty', 'pager', 'error']) show(el(name), false);
  }

  const turn = (delta, button, other) => {
    list.page += delta;
    load().then(() => {
      if (button.disabled || !button.getClientRects().length) other.focus();
    });
  };
  el('newer').addEventListener('click', (event) => {
    if (list.page > 0) turn(-1, event.currentTarget, el('older'));
  });
  el('older').addEventListener('click', (event) => {
    if (list.nextCursor) turn(1, event.currentTarget, el('newer'));
  });
  el('retry').addEventListener('click', () => load());
  el('refresh').addEventListener('click', () => restart());
  return { load, restart, reset, render };
}
