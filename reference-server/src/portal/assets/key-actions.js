// What a person does to keys: create (optionally restricted), rotate (choosing the overlap and
// the new key's validity), revoke, and edit its name and restrictions, each in its own dialog.
// A call that meets an ended session waits for the re-authentication (api.js) and then goes
// through: the dialog and what was typed into it stay as they were meanwhile.

import {
  ApiError,
  createCredential,
  messageOf,
  revokeCredential,
  rotateCredential,
  updateCredential,
} from './api.js';
import { displayName, nameEl, timeEl } from './credential.js';
import { restrictionFields } from './dialog-markup.js';
import { openDialog } from './dialogs.js';
import { append, byId, clear, clearFieldErrors, fieldError, h, notice } from './dom.js';
import { formatDateTime, plural } from './format.js';
import { applyChange, focusRow } from './key-list.js';
import { announce } from './notify.js';
import {
  clearRestrictionErrors,
  describeRestrictionChanges,
  editorChanges,
  fillRestrictions,
  initRestrictions,
  openEditor,
  readRestrictions,
  showEditorRefusal,
  showRestrictionError,
} from './restrictions.js';
import { showSecret } from './secret-dialog.js';
import { state } from './state.js';

/** Closes a dialog whose follow-up moves focus itself. */
function closeQuietly(dialog) {
  dialog.returnFocusTo = false;
  dialog.close();
}

/** Where focus goes once the key dialog closes: `el`, or sign-in if the session was ended meanwhile. */
function focusAfterSecret(el) {
  if (!state.signedIn) byId('signin-email').focus();
  else if (el && el.isConnected && el.getClientRects().length) el.focus();
  else byId('keys-title').focus();
}

// ---------------------------------------------------------------- create

function openCreate(event) {
  const form = byId('create-form');
  form.reset();
  clearFieldErrors(form);
  byId('create-validity').value = String(state.config.default_validity_days);
  fillRestrictions('create', null, state.config.scopes);
  notice(byId('create-error'), '');
  openDialog(byId('create-dialog'), event.currentTarget, byId('create-name'));
}

/** A whole number of days in 1..=365 from `input`, or null after marking the field. */
function validityFrom(input) {
  const text = input.value.trim();
  const days = Number(text);
  if (/^\d+$/.test(text) && days >= 1 && days <= 365) return days;
  fieldError(input, 'Enter a whole number of days between 1 and 365.');
  input.focus();
  return null;
}

async function submitCreate(event) {
  event.preventDefault();
  const form = byId('create-form');
  const errorBox = byId('create-error');
  const nameInput = byId('create-name');
  const daysInput = byId('create-validity');
  clearFieldErrors(form);
  clearRestrictionErrors('create');
  notice(errorBox, '');
  const name = nameInput.value.trim();
  const days = validityFrom(daysInput);
  if (days === null) return;
  if ([...name].length > 100) {
    fieldError(nameInput, 'The name can be at most 100 characters long.');
    nameInput.focus();
    return;
  }
  const restrictions = readRestrictions('create');
  if (!restrictions) return;
  const submit = byId('create-submit');
  submit.disabled = true;
  try {
    const data = await createCredential(name, days, {
      scopes: restrictions.scopes,
      allowedIps: restrictions.allowed_ips,
    });
    closeQuietly(byId('create-dialog'));
    applyChange({ inserted: [{ credential: data.credential }] });
    announce(`Key “${displayName(data.credential)}” created.`);
    showSecret({
      title: 'Your new API key',
      apiKey: data.api_key,
      credential: data.credential,
      onClose: () => focusAfterSecret(byId('create-open')),
    });
    data.api_key = null;
  } catch (error) {
    if (!state.signedIn) return;
    const code = error instanceof ApiError ? error.code : '';
    if (code === 'invalid_validity_days') {
      fieldError(daysInput, error.message);
      daysInput.focus();
    } else if (code === 'invalid_name') {
      fieldError(nameInput, error.message);
      nameInput.focus();
    } else if (!showRestrictionError('create', error)) {
      notice(errorBox, messageOf(error));
    }
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- rotate

let rotating = null;

/** When the old key stops working for an overlap: now + hours, or its own expiry if sooner. */
function graceEndFor(credential, hours) {
  const end = Date.now() + hours * 3600 * 1000;
  const expires = new Date(credential.expires_at).getTime();
  const capped = !Number.isNaN(expires) && expires < end;
  return { at: new Date(capped ? expires : end).toISOString(), capped };
}

function openRotate(credential, opener) {
  rotating = credential;
  const title = clear(byId('rotate-title'));
  append(title, ['Rotate “', nameEl(credential, 'dialog-name'), '”']);
  const text = clear(byId('rotate-text'));
  append(text, [
    'A new key replaces ',
    h('code', { class: 'nowrap' }, credential.masked_key),
    '. The current key keeps working during the overlap you choose, so you can deploy the new one, then it stops working.',
  ]);
  const list = clear(byId('rotate-choices'));
  let anyCapped = false;
  state.config.rotation_grace_hours.forEach((hours, index) => {
    const id = `rotate-hours-${hours}`;
    const end = graceEndFor(credential, hours);
    anyCapped ||= end.capped;
    list.append(
      h(
        'label',
        { class: 'choice', for: id },
        h('input', { type: 'radio', name: 'grace_hours', id, value: hours, checked: index === 0 }),
        h(
          'span',
          { class: 'choice-text' },
          h('span', { class: 'choice-title' }, plural(hours, 'hour', 'hours')),
          h(
            'span',
            { class: 'sub' },
            end.capped ? 'old key valid until its own expiry, ' : 'old key valid until ',
            h('time', { datetime: end.at, class: 'nowrap' }, formatDateTime(end.at)),
          ),
        ),
      ),
    );
  });
  const cap = byId('rotate-cap');
  notice(
    cap,
    anyCapped
      ? `This key expires ${formatDateTime(credential.expires_at)}: the old key never stays valid past that, so a longer overlap ends then.`
      : '',
  );
  notice(byId('rotate-error'), '');
  const validity = byId('rotate-validity');
  validity.value = String(state.config.default_validity_days);
  fieldError(validity, '');
  showNewExpiry();
  openDialog(byId('rotate-dialog'), opener, list.querySelector('input:checked'));
}

/** Under the validity field: when the new key would expire, for the days typed. */
function showNewExpiry() {
  const input = byId('rotate-validity');
  const text = input.value.trim();
  const days = Number(text);
  const hint = byId('rotate-validity-hint');
  if (/^\d+$/.test(text) && days >= 1 && days <= 365) {
    const at = new Date(Date.now() + days * 86400 * 1000).toISOString();
    append(clear(hint), ['The new key expires ', timeEl(at, { dateOnly: true }), ' (between 1 and 365 days).']);
  } else {
    hint.textContent = 'Between 1 and 365 days.';
  }
}

async function submitRotate(event) {
  event.preventDefault();
  const credential = rotating;
  const checked = byId('rotate-choices').querySelector('input:checked');
  if (!credential || !checked) return;
  const validity = byId('rotate-validity');
  fieldError(validity, '');
  const days = validityFrom(validity);
  if (days === null) return;
  const submit = byId('rotate-submit');
  submit.disabled = true;
  try {
    // The default validity is what the server gives when `validity_days` is left out.
    const validityDays = days === state.config.default_validity_days ? null : days;
    const data = await rotateCredential(credential.id, Number(checked.value), validityDays);
    closeQuietly(byId('rotate-dialog'));
    rotating = null;
    applyChange({
      replaced: [[credential, data.previous]],
      inserted: [{ credential: data.credential, above: credential.id }],
    });
    const graceEnd = data.previous?.grace_expires_at;
    announce(`Key “${displayName(data.credential)}” rotated.`);
    showSecret({
      title: 'Your rotated API key',
      apiKey: data.api_key,
      credential: data.credential,
      note: graceEnd
        ? `It replaces ${data.previous.masked_key}, which stays valid until ${formatDateTime(graceEnd)}, then stops working. The new key expires ${formatDateTime(data.credential.expires_at)}.`
        : null,
      onClose: () => (state.signedIn ? focusRow(credential.id) : focusAfterSecret(null)),
    });
    data.api_key = null;
  } catch (error) {
    if (!state.signedIn) return;
    if (error instanceof ApiError && error.code === 'invalid_validity_days') {
      fieldError(validity, error.message);
      validity.focus();
    } else {
      notice(byId('rotate-error'), messageOf(error));
    }
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- revoke

let revoking = null;

function openRevoke(credential, opener) {
  revoking = credential;
  const title = clear(byId('revoke-title'));
  append(title, ['Revoke “', nameEl(credential, 'dialog-name'), '”?']);
  const text = clear(byId('revoke-text'));
  append(text, [
    'Requests with ',
    h('code', { class: 'nowrap' }, credential.masked_key),
    ' will be refused immediately. This cannot be undone.',
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
    applyChange({ replaced: [[credential, data.credential]] });
    closeQuietly(byId('revoke-dialog'));
    focusRow(credential.id);
    announce(`Key “${displayName(data.credential)}” revoked.`);
  } catch (error) {
    if (state.signedIn) notice(byId('revoke-error'), messageOf(error));
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- edit (PATCH): name and restrictions

let editing = null;

function openEdit(credential, opener) {
  editing = credential;
  const text = [
    'The key itself does not change: ',
    h('code', { class: 'nowrap' }, credential.masked_key),
    ' keeps working, with the restrictions you save here from its next request on.',
  ];
  openEditor(credential, opener, text, state.config.scopes);
}

async function submitEdit(event) {
  event.preventDefault();
  const credential = editing;
  if (!credential) return;
  clearFieldErrors(byId('edit-form'));
  clearRestrictionErrors('edit');
  notice(byId('edit-error'), '');
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
    applyChange({ replaced: [[credential, data.credential]] });
    closeQuietly(byId('edit-dialog'));
    focusRow(credential.id);
    const what = ['name' in changes ? `renamed to “${displayName(data.credential)}”` : null, ...describeRestrictionChanges(changes)];
    announce(`Key ${data.credential.masked_key} updated: ${what.filter(Boolean).join('; ')}.`);
  } catch (error) {
    if (!state.signedIn) return;
    showEditorRefusal(error);
  } finally {
    submit.disabled = false;
  }
}

/** Wires the dialogs; returns the row handlers for the key list. */
export function initKeyActions() {
  byId('create-form').addEventListener('submit', submitCreate);
  byId('rotate-form').addEventListener('submit', submitRotate);
  byId('revoke-form').addEventListener('submit', submitRevoke);
  byId('edit-form').addEventListener('submit', submitEdit);
  byId('create-restrictions').append(...restrictionFields('create'));
  initRestrictions('create');
  initRestrictions('edit');
  byId('rotate-validity').addEventListener('input', showNewExpiry);
  byId('create-open').addEventListener('click', openCreate);
  byId('create-first').addEventListener('click', openCreate);
  return { rotate: openRotate, revoke: openRevoke, edit: openEdit };
}

/** Forgets the key a dialog was opened for (sign-out). */
export function resetKeyActions() {
  rotating = null;
  revoking = null;
  editing = null;
}
