// The session dialog of both pages: the warning shortly before the session ends ("Stay signed
// in") and, at the end or on any 401, the request to sign in again — on top of whatever is open,
// so nothing on the page is lost (a half-filled form, a one-time secret not yet copied). Calls
// waiting on a 401 share one dialog and are sent again once signed in (http.js).
//
// One module, parameterised by the page (`sessionKeeper(page)`): the partner portal asks for the
// password; the staff console asks for the password and a fresh TOTP code (`page.code`). The
// dialog itself is built by dialog-markup.js.

import { byId, clearFieldErrors, fieldError, notice, show } from './dom.js';
import { formatDateTime, untilText } from './format.js';
import { ApiError, messageOf } from './http.js';
import { announce } from './notify.js';
import { secretShown } from './secret-dialog.js';
import { expiryTimers, reauthGate, throttledText } from './session-common.js';

/** A TOTP code as typed: digits only (spaces and dashes people copy are dropped). */
export function codeOf(input) {
  return input.value.replace(/[\s-]/g, '');
}

/** Marks a TOTP code field when it is not 6 digits; true when it is. */
export function checkCode(input) {
  const code = codeOf(input);
  if (/^\d{6}$/.test(code)) return true;
  fieldError(input, code ? 'The code has 6 digits.' : 'Enter the 6-digit code from your authenticator app.');
  return false;
}

/**
 * The session keeper of a page. `page`:
 * - `state`: the page's `{signedIn, email}`;
 * - `session`: the page's session store (`get`, `set`);
 * - `code`: whether re-authentication asks for a TOTP code too;
 * - `secretName`: what the one-time dialog shows ("key", "one-time password");
 * - `renew(password, code)`: signs in again, resolves the new session (`{expiresAt, …}`), or
 *   null when the page ended the session itself instead;
 * - `signOut()`: what "Sign out" in the dialog does.
 *
 * Returns `{init, schedule, reauthenticate, stop}`.
 */
export function sessionKeeper(page) {
  const expiry = expiryTimers();
  const gate = reauthGate();
  const asks = page.code ? 'your password and a new code' : 'your password';

  function open(mode) {
    if (!page.state.signedIn) return;
    const dialog = byId('session-dialog');
    if (dialog.open && dialog.dataset.mode === 'expired') return;
    const current = page.session.get();
    dialog.dataset.mode = mode;
    byId('session-email').textContent = page.state.email;
    const keep = secretShown()
      ? ` Nothing on this page is lost: the ${page.secretName} you are being shown stays open underneath.`
      : ' Nothing on this page is lost.';
    if (mode === 'warning') {
      const at = current && Number.isFinite(current.expiresAt) ? new Date(current.expiresAt).toISOString() : null;
      byId('session-title').textContent = 'Your session ends soon';
      byId('session-text').textContent = at
        ? `For your security, your session ends ${untilText(at)} (${formatDateTime(at)}). Enter ${asks} to stay signed in.${keep}`
        : `Your session ends soon. Enter ${asks} to stay signed in.${keep}`;
      byId('session-submit').textContent = 'Stay signed in';
    } else {
      byId('session-title').textContent = 'Your session has ended';
      byId('session-text').textContent = `Enter ${asks} to continue where you left off.${keep}`;
      byId('session-submit').textContent = 'Sign in';
    }
    show(byId('session-later'), mode === 'warning');
    if (!dialog.open) {
      byId('session-password').value = '';
      if (page.code) byId('session-totp').value = '';
      clearFieldErrors(byId('session-form'));
      notice(byId('session-error'), '');
      dialog.returnFocusTo = document.activeElement;
      dialog.showModal();
    }
    byId('session-password').focus();
  }

  /**
   * Asks the person to sign in again; resolves `true` once they have (a new token is stored),
   * `false` if the session is over (they signed out). Concurrent callers share one dialog.
   */
  function reauthenticate() {
    if (!page.state.signedIn) return Promise.resolve(false);
    const waiting = gate.wait();
    open('expired');
    return waiting;
  }

  /** Warns shortly before `current.expiresAt` and asks to sign in again at it. */
  function schedule(current) {
    expiry.schedule(current, {
      warn: () => open('warning'),
      expire: () => {
        if (page.state.signedIn) reauthenticate();
      },
    });
  }

  async function submit(event) {
    event.preventDefault();
    const password = byId('session-password');
    const code = page.code ? byId('session-totp') : null;
    const box = byId('session-error');
    clearFieldErrors(byId('session-form'));
    notice(box, '');
    if (!password.value) {
      fieldError(password, 'Enter your password.');
      password.focus();
      return;
    }
    if (code && !checkCode(code)) {
      code.focus();
      return;
    }
    const button = byId('session-submit');
    button.disabled = true;
    try {
      const next = await page.renew(password.value, code ? codeOf(code) : undefined);
      password.value = '';
      if (code) code.value = '';
      if (!next) return;
      schedule(next);
      byId('session-dialog').close();
      gate.settle(true);
      announce(`You are still signed in, until ${formatDateTime(new Date(next.expiresAt).toISOString())}.`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        if (code) {
          notice(box, 'The password or the code is not correct. A code works once: wait for the next one.');
          code.value = '';
        } else {
          fieldError(password, 'The password is not correct.');
        }
        password.select();
      } else if (error instanceof ApiError && error.status === 429) {
        notice(box, throttledText(error));
      } else {
        notice(box, messageOf(error));
      }
    } finally {
      button.disabled = false;
    }
  }

  return {
    /** Wires the dialog (built by dialog-markup.js). */
    init() {
      const dialog = byId('session-dialog');
      byId('session-form').addEventListener('submit', submit);
      byId('session-later').addEventListener('click', () => dialog.close());
      byId('session-signout').addEventListener('click', () => page.signOut());
      dialog.addEventListener('cancel', (event) => {
        // Escape dismisses the warning, never the request to sign in again.
        if (dialog.dataset.mode === 'expired') event.preventDefault();
      });
    },
    schedule,
    reauthenticate,
    /** The session is over: no more timers, and every call waiting on a sign-in gives up. */
    stop() {
      expiry.clear();
      gate.settle(false);
    },
  };
}
