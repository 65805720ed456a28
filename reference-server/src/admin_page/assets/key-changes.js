// What staff do to a partner's key, on the partner's behalf: revoke it (after a confirmation that
// names the key and its tenant) and restrict it — its name, scopes and allowed addresses (PATCH).
// Staff never create or rotate a key: the secret would then pass through their hands.

import { revokeCredential, updateCredential } from './admin-api.js';
import { state, tenantName } from './admin-state.js';
import { displayName, nameEl } from './credential.js';
import { openDialog } from './dialogs.js';
import { append, byId, clear, clearFieldErrors, fieldError, h, notice, show } from './dom.js';
import { ApiError, messageOf } from './http.js';
import { keyChanged } from './key-search.js';
import { announce } from './notify.js';

/** Most address blocks a key may carry. */
const MAX_ALLOWED_IPS = 50;

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

function sameSet(a, b) {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x) => b.includes(x));
}

function scopeChoices(credential) {
  const catalogue = state.config.scopes.map((s) => ({ name: s.name, description: s.description || '' }));
  for (const name of Array.isArray(credential.scopes) ? credential.scopes : []) {
    if (!catalogue.some((s) => s.name === name)) catalogue.push({ name, description: 'Not in the catalogue any more' });
  }
  return catalogue;
}

function syncModes() {
  const scopesOnly = byId('edit-scopes-only').checked;
  show(byId('edit-scopes-list'), scopesOnly);
  show(byId('edit-ips-field'), byId('edit-ips-only').checked);
}

function openEdit(credential, opener) {
  editing = credential;
  const form = byId('edit-form');
  form.reset();
  clearFieldErrors(form);
  notice(byId('edit-error'), '');
  show(byId('edit-scopes-error'), false);
  append(clear(byId('edit-title')), ['Edit “', nameEl(credential, 'dialog-name'), '”']);
  append(clear(byId('edit-text')), [
    h('code', { class: 'nowrap' }, String(credential.masked_key)),
    ` of ${tenantLabel(credential)}. The key itself does not change; restrictions take effect at once, like a revoke.`,
  ]);
  byId('edit-name').value = credential.name || '';

  const choices = scopeChoices(credential);
  const scoped = Array.isArray(credential.scopes);
  show(byId('edit-scopes-set'), choices.length > 0);
  byId(scoped ? 'edit-scopes-only' : 'edit-scopes-any').checked = true;
  const list = clear(byId('edit-scopes-list'));
  choices.forEach((scope, index) => {
    const id = `edit-scope-${index}`;
    list.append(
      h(
        'label',
        { class: 'scope-choice', for: id },
        h('input', { type: 'checkbox', id, value: scope.name, checked: scoped && credential.scopes.includes(scope.name) }),
        h('span', {}, h('code', {}, scope.name), scope.description ? h('span', { class: 'sub' }, scope.description) : null),
      ),
    );
  });

  const limited = Array.isArray(credential.allowed_ips);
  byId(limited ? 'edit-ips-only' : 'edit-ips-any').checked = true;
  byId('edit-ips').value = limited ? credential.allowed_ips.join('\n') : '';
  syncModes();
  openDialog(byId('edit-dialog'), opener, byId('edit-name'));
}

/** The PATCH body for what was changed in the form, or null when a field is refused here. */
function changesFrom(credential) {
  const changes = {};
  const nameInput = byId('edit-name');
  const name = nameInput.value.trim();
  if ([...name].length > 100) {
    fieldError(nameInput, 'The name can be at most 100 characters long.');
    nameInput.focus();
    return null;
  }
  if (name !== (credential.name || '')) changes.name = name || null;

  if (!byId('edit-scopes-set').hidden) {
    let scopes = null;
    if (byId('edit-scopes-only').checked) {
      scopes = [...byId('edit-scopes-list').querySelectorAll('input:checked')].map((i) => i.value);
      if (!scopes.length) {
        const box = byId('edit-scopes-error');
        notice(box, 'Choose at least one scope, or allow any scope.');
        byId('edit-scopes-list').querySelector('input')?.focus();
        return null;
      }
    }
    if (!sameSet(scopes, Array.isArray(credential.scopes) ? credential.scopes : null)) changes.scopes = scopes;
  }

  const ipsInput = byId('edit-ips');
  let ips = null;
  if (byId('edit-ips-only').checked) {
    ips = ipsInput.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
    if (!ips.length || ips.length > MAX_ALLOWED_IPS) {
      fieldError(
        ipsInput,
        ips.length ? `At most ${MAX_ALLOWED_IPS} address blocks (${ips.length} given).` : 'Enter at least one address block, or allow any address.',
      );
      ipsInput.focus();
      return null;
    }
  }
  if (!sameSet(ips, Array.isArray(credential.allowed_ips) ? credential.allowed_ips : null)) changes.allowed_ips = ips;
  return changes;
}

function describeChanges(changes) {
  const parts = [];
  if ('name' in changes) parts.push(changes.name ? `renamed to “${changes.name}”` : 'name removed');
  if ('scopes' in changes) parts.push(changes.scopes ? `scopes ${changes.scopes.join(', ')}` : 'any scope');
  if ('allowed_ips' in changes) parts.push(changes.allowed_ips ? `addresses ${changes.allowed_ips.join(', ')}` : 'any address');
  return parts.join('; ');
}

async function submitEdit(event) {
  event.preventDefault();
  const credential = editing;
  if (!credential) return;
  clearFieldErrors(byId('edit-form'));
  notice(byId('edit-error'), '');
  notice(byId('edit-scopes-error'), '');
  const changes = changesFrom(credential);
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
    const code = error instanceof ApiError ? error.code : '';
    if (code === 'invalid_name') {
      fieldError(byId('edit-name'), error.message);
      byId('edit-name').focus();
    } else if (code === 'invalid_cidr') {
      fieldError(byId('edit-ips'), error.message);
      byId('edit-ips').focus();
    } else if (code === 'invalid_scope') {
      notice(byId('edit-scopes-error'), error.message);
    } else if (error instanceof ApiError && error.status === 409) {
      notice(byId('edit-error'), 'This key no longer works (revoked or expired), so it cannot be changed.');
    } else {
      notice(byId('edit-error'), messageOf(error));
    }
  } finally {
    submit.disabled = false;
  }
}

/** Wires the dialogs; returns the row handlers for the key search. */
export function initKeyChanges() {
  byId('revoke-form').addEventListener('submit', submitRevoke);
  byId('edit-form').addEventListener('submit', submitEdit);
  for (const id of ['edit-scopes-any', 'edit-scopes-only', 'edit-ips-any', 'edit-ips-only']) {
    byId(id).addEventListener('change', syncModes);
  }
  return { revoke: openRevoke, edit: openEdit };
}

/** Forgets the key a dialog was opened for (sign-out). */
export function resetKeyChanges() {
  revoking = null;
  editing = null;
}
