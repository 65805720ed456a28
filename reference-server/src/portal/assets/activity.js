// The Activity section: this organisation's audit trail (`GET /v1/partner/audit`), newest first,
// a page at a time. Changes made by Idunox staff from the staff console read "Idunox staff".

import { listAudit } from './api.js';
import { auditList } from './audit.js';
import { state } from './state.js';

let list = null;

/** Wires the Activity section's list, pager and buttons. */
export function initActivity() {
  list = auditList({
    prefix: 'activity',
    fetchPage: listAudit,
    row: { labels: { staff: 'Idunox staff', user: null, anonymous: 'Not signed in' } },
    isActive: () => state.signedIn,
  });
}

/** Loads the newest entries. */
export function loadActivity() {
  return list.restart();
}

/** Draws the rows again (times switched to UTC or back). */
export function rerenderActivity() {
  list.render();
}

/** Forgets every entry (sign-out). */
export function resetActivity() {
  list.reset();
}
