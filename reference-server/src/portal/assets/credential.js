// How a credential reads on the page: its name, status and times, as DOM nodes built from text.

import { h } from './dom.js';
import { expiresIn, formatDate, formatDateTime } from './format.js';

export const STATUSES = ['active', 'expiring', 'grace', 'revoked', 'expired'];

export const STATUS_LABELS = {
  active: 'Active',
  expiring: 'Expiring',
  grace: 'In grace',
  revoked: 'Revoked',
  expired: 'Expired',
};

/** The statuses of keys that still verify (and that the list shows by default). */
export const LIVE_STATUSES = ['active', 'expiring', 'grace'];

/** The key's name, or "Unnamed key". */
export function displayName(credential) {
  return credential && credential.name ? credential.name : 'Unnamed key';
}

/**
 * A name that may be long and without spaces: the element wraps or truncates by its CSS class,
 * and always carries the full name as its text (read by screen readers) and as its tooltip.
 */
export function nameEl(credential, className = 'key-name') {
  const name = displayName(credential);
  return h('span', { class: credential && credential.name ? className : `${className} unnamed`, title: name }, name);
}

/** The coloured status badge. */
export function statusBadge(status) {
  const known = STATUSES.includes(status);
  return h(
    'span',
    { class: `badge badge-${known ? status : 'unknown'}`, 'data-status': known ? status : 'unknown' },
    known ? STATUS_LABELS[status] : String(status),
  );
}

/**
 * A `<time>`: date and time with its zone (or the date only), never broken across lines, with
 * the other rendering (UTC or local) as its tooltip.
 */
export function timeEl(iso, { dateOnly = false } = {}) {
  const text = dateOnly ? formatDate(iso) : formatDateTime(iso);
  return h('time', { datetime: iso, title: `${formatDateTime(iso, true)} · ${formatDateTime(iso, false)}` }, text);
}

/** What the key's expiry means now: its date and days left, the end of its grace, or when it stopped. */
export function expiryCell(c) {
  switch (c.status) {
    case 'active':
    case 'expiring':
      return h(
        'span',
        { class: c.status === 'expiring' ? 'expiry warn' : 'expiry' },
        timeEl(c.expires_at, { dateOnly: true }),
        Number.isInteger(c.expires_in_days) ? ` · ${expiresIn(c.expires_in_days)}` : '',
      );
    case 'grace':
      return h('span', { class: 'expiry grace' }, 'Grace ends ', timeEl(c.grace_expires_at));
    case 'revoked':
      return h('span', { class: 'expiry' }, 'Revoked ', c.revoked_at ? timeEl(c.revoked_at) : '');
    case 'expired': {
      const at = c.grace_expires_at && new Date(c.grace_expires_at) < new Date(c.expires_at) ? c.grace_expires_at : c.expires_at;
      return h('span', { class: 'expiry' }, 'Expired ', timeEl(at));
    }
    default:
      return h('span', { class: 'expiry' }, c.expires_at ? timeEl(c.expires_at, { dateOnly: true }) : '');
  }
}
