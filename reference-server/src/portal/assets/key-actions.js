// What a person does to keys: create, rotate, revoke and rename, each in its own dialog.
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
import { displayName, nameEl } from './credential.js';
import { openDialog } from './dialogs.js';
import { append, byId, clear, clearFieldErrors, fieldError, h, notice } from './dom.js';
import { formatDateTime, plural } from './format.js';
import { applyChange, focusRow } from './key-list.js';
import { announce } from './notify.js';
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
  notice(byId('create-error'), '');
  openDialog(byId('create-dialog'), event.currentTarget, byId('create-name'));
}

async function submitCreate(event) {
  event.preventDefault();
  const form = byId('create-form');
  const errorBox = byId('create-error');
  const nameInput = byId('create-name');
  const daysInput = byId('create-validity');
  clearFieldErrors(form);
  notice(errorBox, '');
  const name = nameInput.value.trim();
  const daysText = daysInput.value.trim();
  const days = Number(daysText);
  if (!/^\d+$/.test(daysText) || days < 1 || days > 365) {
    fieldError(daysInput, 'Enter a whole number of days between 1 and 365.');
    daysInput.focus();
    return;
  }
  if ([...name].length > 100) {
    fieldError(nameInput, 'The name can be at most 100 characters long.');
    nameInput.focus();
    return;
  }
  const submit = byId('create-submit');
  submit.disabled = true;
  try {
    const data = await createCredential(name, days);
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
    if (error instanceof ApiError && error.status === 422 && /valid/i.test(error.message)) {
      fieldError(daysInput, error.message);
      daysInput.focus();
    } else if (error instanceof ApiError && error.status === 422 && /name/i.test(error.message)) {
      fieldError(nameInput, error.message);
      nameInput.focus();
    } else {
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
  openDialog(byId('rotate-dialog'), opener, list.querySelector('input:checked'));
}

async function submitRotate(event) {
  event.preventDefault();
  const credential = rotating;
  const checked = byId('rotate-choices').querySelector('input:checked');
  if (!credential || !checked) return;
  const submit = byId('rotate-submit');
  submit.disabled = true;
  try {
    const data = await rotateCredential(credential.id, Number(checked.value));
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
        ? `The previous key (${data.previous.masked_key}) stays valid until ${formatDateTime(graceEnd)}, then stops working.`
        : null,
      onClose: () => (state.signedIn ? focusRow(credential.id) : focusAfterSecret(null)),
    });
    data.api_key = null;
  } catch (error) {
    if (state.signedIn) notice(byId('rotate-error'), messageOf(error));
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

// ---------------------------------------------------------------- rename (PATCH)

let editing = null;

function openEdit(credential, opener) {
  editing = credential;
  const form = byId('edit-form');
  clearFieldErrors(form);
  const title = clear(byId('edit-title'));
  append(title, ['Rename “', nameEl(credential, 'dialog-name'), '”']);
  const text = clear(byId('edit-text'));
  append(text, ['The key itself does not change: ', h('code', { class: 'nowrap' }, credential.masked_key), ' keeps working.']);
  byId('edit-name').value = credential.name || '';
  notice(byId('edit-error'), '');
  openDialog(byId('edit-dialog'), opener, byId('edit-name'));
}

async function submitEdit(event) {
  event.preventDefault();
  const credential = editing;
  if (!credential) return;
  const input = byId('edit-name');
  clearFieldErrors(byId('edit-form'));
  notice(byId('edit-error'), '');
  const name = input.value.trim();
  if ([...name].length > 100) {
    fieldError(input, 'The name can be at most 100 characters long.');
    input.focus();
    return;
  }
  if (name === (credential.name || '')) {
    byId('edit-dialog').close();
    return;
  }
  const submit = byId('edit-submit');
  submit.disabled = true;
  try {
    const data = await updateCredential(credential.id, { name: name || null });
    editing = null;
    applyChange({ replaced: [[credential, data.credential]] });
    closeQuietly(byId('edit-dialog'));
    focusRow(credential.id);
    announce(`Key renamed to “${displayName(data.credential)}”.`);
  } catch (error) {
    if (!state.signedIn) return;
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
      notice(byId('edit-error'), 'This server cannot rename keys yet.');
    } else if (error instanceof ApiError && error.status === 422) {
      fieldError(input, error.message);
      input.focus();
    } else {
      notice(byId('edit-error'), messageOf(error));
    }
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
