// The one-time dialog. A secret shown once — a new API key in the partner portal, a one-time
// password in the staff console — is held only here: in a read-only field of a modal dialog that
// nothing but its reader closes (not the session timer, not a 401, not sign-out). Closing it
// without having copied the secret asks once. Once closed, the dialog leaves the DOM and the last
// reference to the secret is dropped.

import { h } from './dom.js';
import { displayName } from './credential.js';

let current = null;

/** Whether a secret is on screen right now. */
export function secretShown() {
  return current !== null;
}

async function copyText(text, input) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await Promise.race([
        navigator.clipboard.writeText(text),
        new Promise((_, reject) => window.setTimeout(() => reject(new Error('timeout')), 1500)),
      ]);
      return true;
    } catch {
      // Fall back to selecting the field and the legacy copy command.
    }
  }
  input.focus();
  input.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/**
 * Shows a plaintext key once. `options`: `title`, `apiKey`, `credential` (the new one), `note`
 * (a sentence or null), `onClose` (called after the dialog has left the page).
 */
export function showSecret(options) {
  const secret = options.apiKey;
  options.apiKey = null;
  showOnce({
    title: options.title,
    secret,
    about: [
      'For ',
      h('strong', { class: 'dialog-name', title: displayName(options.credential) }, displayName(options.credential)),
      ' · ',
      h('code', { class: 'nowrap' }, options.credential.masked_key),
    ],
    warning: [
      h('strong', {}, 'Copy this key now. It will not be shown again. '),
      'Idunox keeps only a hash of it. If you lose it, rotate the key or create a new one.',
    ],
    fieldLabel: 'Your API key',
    unsavedText:
      'You have not copied the key. Once this dialog is closed nobody can see it again. Copy it now, or choose Close without copying.',
    note: options.note,
    onClose: options.onClose,
  });
}

/**
 * Shows a secret once. `options`: `title`; `secret`; `about` (nodes or strings saying what the
 * secret is for); `warning` (nodes or strings: why it must be copied now); `fieldLabel` (the
 * field's accessible name); `unsavedText` (said once when closed without a copy); `note` (a
 * sentence or null); `onClose` (called after the dialog has left the page).
 */
export function showOnce(options) {
  if (current) current.forceRemove();
  let secret = options.secret;
  options.secret = null;
  let copied = false;
  let asked = false;

  const field = h('input', {
    class: 'secret-value',
    id: 'secret-value',
    type: 'text',
    readonly: true,
    spellcheck: 'false',
    autocomplete: 'off',
    'aria-describedby': 'secret-warning',
    'data-testid': 'secret-value',
  });
  field.value = secret;
  const copyButton = h('button', { class: 'button primary copy-button', type: 'button', id: 'secret-copy' }, 'Copy');
  const copyStatus = h('p', { class: 'copy-status', id: 'secret-copy-status', role: 'status', 'aria-live': 'polite' });
  const unsaved = h('div', { class: 'notice error', id: 'secret-unsaved', role: 'alert', hidden: true });
  const doneButton = h('button', { class: 'button', type: 'button', id: 'secret-close' }, 'Done');
  const dialog = h(
    'dialog',
    {
      class: 'dialog secret-dialog',
      id: 'secret-dialog',
      'aria-labelledby': 'secret-title',
      'aria-describedby': 'secret-warning',
    },
    h('h2', { id: 'secret-title' }, options.title),
    h('p', { class: 'secret-for' }, options.about),
    h('div', { class: 'notice warning', id: 'secret-warning' }, options.warning),
    h(
      'div',
      { class: 'secret-field' },
      h('label', { for: 'secret-value', class: 'visually-hidden' }, options.fieldLabel),
      field,
      copyButton,
    ),
    copyStatus,
    options.note ? h('p', { class: 'muted secret-note' }, options.note) : null,
    unsaved,
    h('div', { class: 'dialog-actions' }, doneButton),
  );

  const markCopied = () => {
    copied = true;
    unsaved.hidden = true;
    doneButton.textContent = 'Done';
  };
  field.addEventListener('copy', markCopied);
  field.addEventListener('focus', () => field.select());
  copyButton.addEventListener('click', async () => {
    if (secret === null) return;
    const ok = await copyText(secret, field);
    if (ok) markCopied();
    copyStatus.textContent = ok
      ? 'Copied to the clipboard.'
      : 'Copying failed: the text is selected, press Ctrl+C (or ⌘C) to copy it.';
    copyStatus.className = ok ? 'copy-status ok' : 'copy-status error';
    if (!ok) {
      field.focus();
      field.select();
    }
  });

  /** A close the reader asked for: the first one without a copy asks instead. */
  const requestClose = () => {
    if (!copied && !asked) {
      asked = true;
      unsaved.textContent = options.unsavedText;
      unsaved.hidden = false;
      doneButton.textContent = 'Close without copying';
      copyButton.focus();
      return;
    }
    dialog.close();
  };
  doneButton.addEventListener('click', requestClose);
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault();
    requestClose();
  });

  const cleanUp = () => {
    secret = null;
    field.value = '';
    const selection = window.getSelection();
    if (selection) selection.removeAllRanges();
    dialog.remove();
    current = null;
  };
  dialog.addEventListener('close', () => {
    cleanUp();
    if (options.onClose) options.onClose();
  });
  current = {
    forceRemove() {
      // Only when a newer key replaces this one on screen (never by a timer or the session).
      if (dialog.open) dialog.close();
      else cleanUp();
    },
  };

  document.body.append(dialog);
  dialog.showModal();
  copyButton.focus();
}
