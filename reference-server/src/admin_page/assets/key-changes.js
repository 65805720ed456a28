// What staff do to a partner's key, on the partner's behalf: revoke it (after a confirmation that
// names the key and its tenant) and restrict it — its name, scopes and allowed addresses (PATCH).
// Staff never create or rotate a key: the secret would then pass through their hands.

import { revokeCredential, updateCredential } from './admin-api.js';
import { state, tenantName } from './admin-state.js';
import { displayName, nameEl } from './credential.js';
import { openDialog } from './dialogs.js';
import { append, byId, clear, clearFieldErrors, h, notice } from './dom.js';
import { messageOf } from './http.js';
import { keyChanged } from './key-search.js';
import { announce } from './notify.js';
import {
  clearRestrictionErrors,
  describeRestrictionChanges,
  editorChanges,
  initRestrictions,
  openEditor,
  showEditorRefusal,
} from './restrictions.js';

function tenantLabel(credential) {
  const tenant = credential.tenant && typeof credential.tenant === 'object' ? credential.tenant : null;
  if (typeof tenant?.name === 'string') return tenant.name;
  return tenant?.id ? tenantName(tenant.id) : 'its tenant';
}

function closeQuietly(dialog) {
  dialog.returnFocusTo = false;
  dialog.close();
}

// ---------------------------------------------------------------- revoke

let revoking = null;

function openRevoke(credential, opener) {
  revoking = credential;
  append(clear(byId('revoke-title')), ['Revoke “', nameEl(credential, 'dialog-name'), '”?']);
  append(clear(byId('revoke-text')), [
    'Requests with ',
    h('code', { class: 'nowrap' }, String(credential.masked_key)),
    ' of ',
    h('strong', {}, tenantLabel(credential)),
    ' will be refused immediately, in every service. This cannot be undone. The partner sees it in their activity as done by Idunox staff.',
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
    closeQuietly(byId('revoke-dialog'));
    keyChanged(data?.credential || { ...credential, status: 'revoked' });
    announce(`Key “${displayName(credential)}” of ${tenantLabel(credential)} revoked.`);
  } catch (error) {
    if (state.signedIn) notice(byId('revoke-error'), messageOf(error));
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- restrict (PATCH)

let editing = null;

function openEdit(credential, opener) {
  editing = credential;
  const text = [
    h('code', { class: 'nowrap' }, String(credential.masked_key)),
    ` of ${tenantLabel(credential)}. The key itself does not change; restrictions take effect at once, like a revoke.`,
  ];
  openEditor(credential, opener, text, state.config.scopes);
}

function describeChanges(changes) {
  const parts = [];
  if ('name' in changes) parts.push(changes.name ? `renamed to “${changes.name}”` : 'name removed');
  return [...parts, ...describeRestrictionChanges(changes)].join('; ');
}

async function submitEdit(event) {
  event.preventDefault();
  const credential = editing;
  if (!credential) return;
  clearFieldErrors(byId('edit-form'));
  notice(byId('edit-error'), '');
  clearRestrictionErrors('edit');
  const changes = editorChanges(credential);
  if (!changes) return;
  if (!Object.keys(changes).length) {
    byId('edit-dialog').close();
    return;
  }
  const submit = byId('edit-submit');
  submit.disabled = true;
  try {
    const data = await updateCredential(credential.id, changes);
    editing = null;
    closeQuietly(byId('edit-dialog'));
    keyChanged(data?.credential || { ...credential, ...changes });
    announce(`Key ${credential.masked_key} of ${tenantLabel(credential)} updated: ${describeChanges(changes)}.`);
  } catch (error) {
    if (!state.signedIn) return;
    showEditorRefusal(error);
  } finally {
    submit.disabled = false;
  }
}

/** Wires the dialogs; returns the row handlers for the key search. */
export function initKeyChanges() {
  byId('revoke-form').addEventListener('submit', submitRevoke);
  byId('edit-form').addEventListener('submit', submitEdit);
  initRestrictions('edit');
  return { revoke: openRevoke, edit: openEdit };
}

/** Forgets the key a dialog was opened for (sign-out). */
export function resetKeyChanges() {
  revoking = null;
  editing = null;
}
