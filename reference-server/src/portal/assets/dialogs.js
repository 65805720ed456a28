// Modal dialogs: opening with focus moved in, closing with focus returned to where it was.
// The one-time dialog (secret-dialog.js) is never closed from here: only its reader closes it.
// Shared by the partner portal and the staff console; each page says, in `initDialogs`, whether
// focus may be restored at all (not once signed out) and where it goes when its opener is gone.

/** Opens a modal dialog, moving focus in, and remembers where focus goes back on close. */
export function openDialog(dialog, opener, focusTarget) {
  dialog.returnFocusTo = opener || document.activeElement;
  if (!dialog.open) dialog.showModal();
  if (focusTarget) focusTarget.focus();
}

let page = { active: () => true, fallbackFocus: () => null };

function restoreFocus(dialog) {
  const target = dialog.returnFocusTo;
  dialog.returnFocusTo = null;
  // `false`: whoever closed the dialog moves focus itself (e.g. into the one-time dialog).
  if (target === false || !page.active()) return;
  if (target && target.isConnected && !target.disabled && target.getClientRects().length) {
    target.focus();
  } else {
    const fallback = page.fallbackFocus();
    if (fallback) fallback.focus();
  }
}

/**
 * Wires every `dialog.dialog` of the page: `[data-close]` buttons close, focus returns.
 * `options.active()`: whether focus is restored on close (false once signed out);
 * `options.fallbackFocus()`: where focus goes when the opener has left the page.
 */
export function initDialogs(options = {}) {
  page = { ...page, ...options };
  for (const dialog of document.querySelectorAll('dialog.dialog')) {
    dialog.addEventListener('close', () => restoreFocus(dialog));
    for (const button of dialog.querySelectorAll('[data-close]')) {
      button.addEventListener('click', () => dialog.close());
    }
  }
}

/** Closes every dialog of the page except the one-time dialog. */
export function closeDialogs() {
  for (const dialog of document.querySelectorAll('dialog')) {
    if (dialog.open && dialog.id !== 'secret-dialog') {
      dialog.returnFocusTo = false;
      dialog.close();
    }
  }
}
