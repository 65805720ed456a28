// Modal dialogs: opening with focus moved in, closing with focus returned to where it was.
// The one-time key dialog (secret-dialog.js) is never closed from here: only its reader
// closes it.

import { byId } from './dom.js';
import { state } from './state.js';

/** Opens a modal dialog, moving focus in, and remembers where focus goes back on close. */
export function openDialog(dialog, opener, focusTarget) {
  dialog.returnFocusTo = opener || document.activeElement;
  if (!dialog.open) dialog.showModal();
  if (focusTarget) focusTarget.focus();
}

function restoreFocus(dialog) {
  const target = dialog.returnFocusTo;
  dialog.returnFocusTo = null;
  // `false`: whoever closed the dialog moves focus itself (e.g. into the one-time key dialog).
  if (target === false || !state.signedIn) return;
  if (target && target.isConnected && !target.disabled && target.getClientRects().length) {
    target.focus();
  } else {
    byId('create-open').focus();
  }
}

/** Wires every `dialog.dialog` of the page: `[data-close]` buttons close, focus returns. */
export function initDialogs() {
  for (const dialog of document.querySelectorAll('dialog.dialog')) {
    dialog.addEventListener('close', () => restoreFocus(dialog));
    for (const button of dialog.querySelectorAll('[data-close]')) {
      button.addEventListener('click', () => dialog.close());
    }
  }
}

/** Closes every dialog of the page except the one-time key dialog. */
export function closeDialogs() {
  for (const dialog of document.querySelectorAll('dialog')) {
    if (dialog.open && dialog.id !== 'secret-dialog') {
      dialog.returnFocusTo = false;
      dialog.close();
    }
  }
}
