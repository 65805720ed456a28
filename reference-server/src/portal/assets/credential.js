// How a credential reads on the page: its name, status and times, as DOM nodes built from text.

import { h } from './dom.js';
import { formatDate, formatDateTime } from './format.js';

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
