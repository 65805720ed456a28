// A key's restrictions in a form, for both pages: the scopes it may use (a subset of the
// server's catalogue, or any) and the address blocks it may be used from (up to 50 CIDRs, or
// any). The fields are built by dialog-markup.js (`restrictionFields(prefix)`); this module fills
// them from a key, reads them back as the API's `scopes` / `allowed_ips` (null: unrestricted),
// and puts the server's refusals (`invalid_scope`, `invalid_cidr`) on the field they are about.

import { nameEl } from './credential.js';
import { openDialog } from './dialogs.js';
import { append, byId, clear, clearFieldErrors, fieldError, h, notice, show } from './dom.js';
import { ApiError, messageOf } from './http.js';

/** Most address blocks a key may carry. */
export const MAX_ALLOWED_IPS = 50;

/** Whether two lists hold the same items (null: unrestricted, equal only to null). */
export function sameSet(a, b) {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** `credential.scopes` / `allowed_ips` as a list, or null when the key is not restricted so. */
export function listOrNull(value) {
  return Array.isArray(value) ? value : null;
}

/** Whether a key carries any restriction. */
export function isRestricted(credential) {
  return listOrNull(credential?.scopes) !== null || listOrNull(credential?.allowed_ips) !== null;
}

/** One line that says what a key may do and from where ("any scope, any address" when open). */
export function restrictionSummary(credential) {
  const scopes = listOrNull(credential?.scopes);
  const ips = listOrNull(credential?.allowed_ips);
  const scopeText = scopes ? `Scopes: ${scopes.join(', ') || 'none'}` : 'Any scope';
  const ipText = ips ? `from ${ips.join(', ')}` : 'from any address';
  return `${scopeText}; ${ipText}.`;
}

function syncModes(prefix) {
  show(byId(`${prefix}-scopes-list`), byId(`${prefix}-scopes-only`).checked);
  show(byId(`${prefix}-ips-field`), byId(`${prefix}-ips-only`).checked);
}

/**
 * Fills the restriction fields under `prefix` from a key (`null`: a new key, unrestricted) and
 * the scope catalogue (`[{name, description}]`). Scopes a key carries that the catalogue no
 * longer lists are offered too, so saving does not drop them silently. Without any scope to
 * offer, the scope fieldset is hidden.
 */
export function fillRestrictions(prefix, credential, catalogue) {
  const choices = (Array.isArray(catalogue) ? catalogue : []).map((s) => ({
    name: s.name,
    description: typeof s.description === 'string' ? s.description : '',
  }));
  const scopes = listOrNull(credential?.scopes);
  for (const name of scopes || []) {
    if (!choices.some((s) => s.name === name)) choices.push({ name, description: 'Not in the catalogue any more' });
  }
  show(byId(`${prefix}-scopes-set`), choices.length > 0);
  byId(scopes ? `${prefix}-scopes-only` : `${prefix}-scopes-any`).checked = true;
  const list = clear(byId(`${prefix}-scopes-list`));
  choices.forEach((scope, index) => {
    const id = `${prefix}-scope-${index}`;
    list.append(
      h(
        'label',
        { class: 'scope-choice', for: id },
        h('input', { type: 'checkbox', id, value: scope.name, checked: scopes !== null && scopes.includes(scope.name) }),
        h('span', {}, h('code', {}, scope.name), scope.description ? h('span', { class: 'sub' }, scope.description) : null),
      ),
    );
  });
  notice(byId(`${prefix}-scopes-error`), '');

  const ips = listOrNull(credential?.allowed_ips);
  byId(ips ? `${prefix}-ips-only` : `${prefix}-ips-any`).checked = true;
  byId(`${prefix}-ips`).value = ips ? ips.join('\n') : '';
  syncModes(prefix);
}

/** Wires the mode radios under `prefix` (once, at start). */
export function initRestrictions(prefix) {
  for (const mode of ['scopes-any', 'scopes-only', 'ips-any', 'ips-only']) {
    byId(`${prefix}-${mode}`).addEventListener('change', () => syncModes(prefix));
  }
}

/**
 * The restrictions as chosen: `{scopes, allowed_ips}` (each a list, or null for "any"), or null
 * after marking a field this form refuses (no scope ticked, no or too many address blocks).
 * Address blocks are checked by the server, whose `invalid_cidr` lands on the field.
 */
export function readRestrictions(prefix) {
  let scopes = null;
  if (!byId(`${prefix}-scopes-set`).hidden && byId(`${prefix}-scopes-only`).checked) {
    scopes = [...byId(`${prefix}-scopes-list`).querySelectorAll('input:checked')].map((i) => i.value);
    if (!scopes.length) {
      notice(byId(`${prefix}-scopes-error`), 'Choose at least one scope, or allow any scope.');
      byId(`${prefix}-scopes-list`).querySelector('input')?.focus();
      return null;
    }
  }
  const input = byId(`${prefix}-ips`);
  let ips = null;
  if (byId(`${prefix}-ips-only`).checked) {
    ips = input.value
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (!ips.length || ips.length > MAX_ALLOWED_IPS) {
      fieldError(
        input,
        ips.length
          ? `At most ${MAX_ALLOWED_IPS} address blocks (${ips.length} given).`
          : 'Enter at least one address block, or allow any address.',
      );
      input.focus();
      return null;
    }
  }
  return { scopes, allowed_ips: ips };
}

/** Clears the restriction fields' errors under `prefix`. */
export function clearRestrictionErrors(prefix) {
  notice(byId(`${prefix}-scopes-error`), '');
  fieldError(byId(`${prefix}-ips`), '');
}

/**
 * Puts the server's refusal of a restriction on its field (`invalid_cidr` on the address
 * blocks, `invalid_scope` on the scopes); true when `error` was one of those.
 */
export function showRestrictionError(prefix, error) {
  const code = error instanceof ApiError ? error.code : '';
  if (code === 'invalid_cidr') {
    const input = byId(`${prefix}-ips`);
    fieldError(input, error.message);
    input.focus();
    return true;
  }
  if (code === 'invalid_scope') {
    notice(byId(`${prefix}-scopes-error`), error.message);
    byId(`${prefix}-scopes-list`).querySelector('input')?.focus();
    return true;
  }
  return false;
}

/** "scopes a, b" / "any scope"; "addresses …" / "any address": what a PATCH changed. */
export function describeRestrictionChanges(changes) {
  const parts = [];
  if ('scopes' in changes) parts.push(changes.scopes ? `scopes ${changes.scopes.join(', ')}` : 'any scope');
  if ('allowed_ips' in changes) parts.push(changes.allowed_ips ? `addresses ${changes.allowed_ips.join(', ')}` : 'any address');
  return parts;
}

// ---------------------------------------------------------------- the key editor (both pages)

/**
 * Opens the key editor for `credential`: its title, `text` (nodes or strings) under it, the
 * name and the restrictions from the scope `catalogue`; focus on the name.
 */
export function openEditor(credential, opener, text, catalogue) {
  const form = byId('edit-form');
  form.reset();
  clearFieldErrors(form);
  notice(byId('edit-error'), '');
  append(clear(byId('edit-title')), ['Edit “', nameEl(credential, 'dialog-name'), '”']);
  append(clear(byId('edit-text')), text);
  byId('edit-name').value = credential.name || '';
  fillRestrictions('edit', credential, catalogue);
  openDialog(byId('edit-dialog'), opener, byId('edit-name'));
}

/**
 * The PATCH body for what was changed in the key editor (`#edit-name` and the `edit`
 * restriction fields) against `credential`: only the fields that differ, `{}` when nothing
 * does; null after marking a field this form refuses.
 */
export function editorChanges(credential) {
  const nameInput = byId('edit-name');
  const name = nameInput.value.trim();
  if ([...name].length > 100) {
    fieldError(nameInput, 'The name can be at most 100 characters long.');
    nameInput.focus();
    return null;
  }
  const changes = {};
  if (name !== (credential.name || '')) changes.name = name || null;
  const chosen = readRestrictions('edit');
  if (!chosen) return null;
  if (!byId('edit-scopes-set').hidden && !sameSet(chosen.scopes, listOrNull(credential.scopes))) {
    changes.scopes = chosen.scopes;
  }
  if (!sameSet(chosen.allowed_ips, listOrNull(credential.allowed_ips))) changes.allowed_ips = chosen.allowed_ips;
  return changes;
}

/** Says why the server refused a PATCH from the key editor: on the field it is about, or above. */
export function showEditorRefusal(error) {
  const code = error instanceof ApiError ? error.code : '';
  if (code === 'invalid_name') {
    const input = byId('edit-name');
    fieldError(input, error.message);
    input.focus();
  } else if (showRestrictionError('edit', error)) {
    // Said on the field.
  } else if (error instanceof ApiError && error.status === 409) {
    notice(byId('edit-error'), 'This key no longer works (revoked or expired), so it cannot be changed.');
  } else {
    notice(byId('edit-error'), messageOf(error));
  }
}
