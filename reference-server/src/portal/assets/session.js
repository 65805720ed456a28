// The session: sign-in, the forced password change, the warning before the session ends,
// re-authentication in a dialog, and sign-out.
//
// When the session ends (its timer, or any call answered 401) nothing on the page is thrown
// away: a modal dialog asks for the password again (a normal sign-in with the same email, which
// gives a new token) on top of whatever is open, the key list, a half-filled form, a shown-once
// key. Calls waiting on the 401 are then sent again (api.js). Only the person ends a session:
// "Sign out" here, or in the account menu.

import { closeAccountMenu, initAccountMenu } from './account-menu.js';
import { ApiError, changePassword, login, logout, me, messageOf, session, setReauthenticator } from './api.js';
import { closeDialogs } from './dialogs.js';
import { byId, clearFieldErrors, fieldError, notice, show } from './dom.js';
import { formatDateTime, untilText } from './format.js';
import { resetActivity } from './activity.js';
import { resetKeyActions } from './key-actions.js';
import { resetKeyList } from './key-list.js';
import { announce, clearAnnouncement } from './notify.js';
import { checkNewPassword, refreshStrength, showPasswordRefusal } from './password.js';
import { hideSections, showSection } from './sections.js';
import { secretShown } from './secret-dialog.js';
import { expiryTimers, reauthGate, sessionTimes, signInLock, throttledText } from './session-common.js';
import { state } from './state.js';

const expiry = expiryTimers();
const gate = reauthGate();
/** Holds the sign-in button while sign-in is throttled (set up in `initSession`). */
let lock = null;
/** The one-time password just used to sign in, kept only until the forced change is done. */
let oneTimePassword = null;

function sessionFrom(data, email) {
  return {
    ...sessionTimes(data),
    token: data.token,
    user: data.user || { email },
    tenant: data.tenant || null,
  };
}

function schedule(current) {
  expiry.schedule(current, {
    warn: () => openSessionDialog('warning'),
    expire: () => {
      if (state.signedIn) reauthenticate();
    },
  });
}

// ---------------------------------------------------------------- the session dialog

function openSessionDialog(mode) {
  if (!state.signedIn) return;
  const dialog = byId('session-dialog');
  if (dialog.open && dialog.dataset.mode === 'expired') return;
  const current = session.get();
  dialog.dataset.mode = mode;
  byId('session-email').textContent = state.email;
  const keep = secretShown()
    ? ' Nothing on this page is lost: the key you are being shown stays open underneath.'
    : ' Nothing on this page is lost.';
  if (mode === 'warning') {
    const at = current && Number.isFinite(current.expiresAt) ? new Date(current.expiresAt).toISOString() : null;
    byId('session-title').textContent = 'Your session ends soon';
    byId('session-text').textContent = at
      ? `For your security, your session ends ${untilText(at)} (${formatDateTime(at)}). Enter your password to stay signed in.${keep}`
      : `Your session ends soon. Enter your password to stay signed in.${keep}`;
    byId('session-submit').textContent = 'Stay signed in';
  } else {
    byId('session-title').textContent = 'Your session has ended';
    byId('session-text').textContent = `Enter your password to continue where you left off.${keep}`;
    byId('session-submit').textContent = 'Sign in';
  }
  show(byId('session-later'), mode === 'warning');
  if (!dialog.open) {
    byId('session-password').value = '';
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
export function reauthenticate() {
  if (!state.signedIn) return Promise.resolve(false);
  const waiting = gate.wait();
  openSessionDialog('expired');
  return waiting;
}

function settleReauth(value) {
  gate.settle(value);
}

async function submitSessionDialog(event) {
  event.preventDefault();
  const input = byId('session-password');
  const box = byId('session-error');
  clearFieldErrors(byId('session-form'));
  notice(box, '');
  if (!input.value) {
    fieldError(input, 'Enter your password.');
    input.focus();
    return;
  }
  const submit = byId('session-submit');
  submit.disabled = true;
  try {
    const before = session.get();
    const data = await login(state.email, input.value);
    input.value = '';
    const next = sessionFrom(data, state.email);
    if (before && before.tenant && next.tenant && before.tenant.id !== next.tenant.id) {
      // Not the same organisation: nothing of the page may carry over.
      endSession('Signed in to another organisation: please sign in again.', 'warning');
      return;
    }
    session.set(next);
    schedule(next);
    const dialog = byId('session-dialog');
    dialog.close();
    settleReauth(true);
    announce(`You are still signed in, until ${formatDateTime(new Date(next.expiresAt).toISOString())}.`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      fieldError(input, 'The password is not correct.');
      input.select();
    } else if (error instanceof ApiError && error.status === 429) {
      notice(box, throttledText(error));
    } else {
      notice(box, messageOf(error));
    }
  } finally {
    submit.disabled = false;
  }
}

function initSessionDialog() {
  const dialog = byId('session-dialog');
  byId('session-form').addEventListener('submit', submitSessionDialog);
  byId('session-later').addEventListener('click', () => dialog.close());
  byId('session-signout').addEventListener('click', () => signOut());
  dialog.addEventListener('cancel', (event) => {
    // Escape dismisses the warning, never the request to sign in again.
    if (dialog.dataset.mode === 'expired') event.preventDefault();
  });
}

// ---------------------------------------------------------------- views

/** Shows sign-in or the forced change alone (the signed-in sections: `showSection`). */
function showView(id) {
  hideSections();
  for (const view of ['signin-view', 'forced-view']) show(byId(view), view === id);
}

function showSignIn(message, kind = 'info') {
  showView('signin-view');
  show(byId('account'), false);
  const box = byId('signin-message');
  box.className = `notice ${kind}`;
  notice(box, message);
  byId('signin-password').value = '';
  if (!secretShown()) byId('signin-email').focus();
}

function showForced() {
  showView('forced-view');
  const form = byId('forced-form');
  form.reset();
  clearFieldErrors(form);
  notice(byId('forced-error'), '');
  show(byId('forced-current-field'), oneTimePassword === null);
  refreshStrength(byId('forced-new'));
  byId('forced-title').focus();
}

function showKeys(focus) {
  showView(null);
  showSection({ focus });
}

/** Signs the page in with a session: the forced password change first, if the server asks. */
async function enterApp(current, { focus = false } = {}) {
  state.signedIn = true;
  state.email = current.user?.email || state.email;
  byId('account-email').textContent = state.email;
  byId('account-menu-email').textContent = state.email;
  show(byId('account'));
  notice(byId('signin-message'), '');
  schedule(current);
  let must = current.user?.must_change_password === true;
  showKeys(focus && !must);
  try {
    const who = await me();
    if (!state.signedIn) return;
    must = who?.user?.must_change_password === true;
    if (who?.tenant?.name) {
      const stored = session.get();
      if (stored) session.set({ ...stored, tenant: who.tenant, user: { ...stored.user, ...who.user } });
    }
  } catch {
    // The list call reports an outage; the flag defaults to what sign-in said.
  }
  if (must) showForced();
  else oneTimePassword = null;
}

/** Ends the session in this page, keeping only a key dialog the person has not closed yet. */
function endSession(message, kind = 'info') {
  state.signedIn = false;
  session.clear();
  expiry.clear();
  settleReauth(false);
  oneTimePassword = null;
  closeDialogs();
  closeAccountMenu();
  resetKeyList();
  resetKeyActions();
  resetActivity();
  clearAnnouncement();
  showSignIn(message, kind);
}

/** Signs out: this page at once, and the token on the server (best effort). */
export function signOut(message = 'You have signed out.') {
  const current = session.get();
  endSession(message, 'info');
  if (current) logout(current.token).catch(() => {});
}

// ---------------------------------------------------------------- sign-in form

async function submitSignIn(event) {
  event.preventDefault();
  const box = byId('signin-message');
  const emailInput = byId('signin-email');
  const passwordInput = byId('signin-password');
  clearFieldErrors(byId('signin-form'));
  notice(box, '');
  const email = emailInput.value.trim();
  const password = passwordInput.value;
  if (!email || !password) {
    if (!email) fieldError(emailInput, 'Enter your email.');
    if (!password) fieldError(passwordInput, 'Enter your password.');
    (email ? passwordInput : emailInput).focus();
    return;
  }
  const submit = byId('signin-submit');
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  let locked = false;
  try {
    const data = await login(email, password);
    const current = sessionFrom(data, email);
    session.set(current);
    passwordInput.value = '';
    oneTimePassword = password;
    state.email = current.user?.email || email;
    await enterApp(current, { focus: true });
    if (state.signedIn && byId('keys-view').hidden === false) announce(`Signed in as ${state.email}.`);
  } catch (error) {
    box.className = 'notice error';
    if (error instanceof ApiError && error.status === 401) {
      notice(box, 'The email or password is incorrect.');
      passwordInput.select();
    } else if (error instanceof ApiError && error.status === 429) {
      notice(box, throttledText(error, ' for this account'));
      locked = lock.hold(error);
    } else {
      notice(box, messageOf(error));
    }
  } finally {
    submit.textContent = 'Sign in';
    if (!locked) submit.disabled = false;
  }
}

// ---------------------------------------------------------------- forced password change

async function submitForced(event) {
  event.preventDefault();
  const form = byId('forced-form');
  const currentInput = byId('forced-current');
  const newInput = byId('forced-new');
  const confirmInput = byId('forced-confirm');
  const box = byId('forced-error');
  clearFieldErrors(form);
  notice(box, '');
  const current = oneTimePassword !== null ? oneTimePassword : currentInput.value;
  if (!current) {
    fieldError(currentInput, 'Enter the one-time password you signed in with.');
    currentInput.focus();
    return;
  }
  if (!checkNewPassword(newInput, confirmInput, current)) return;
  const submit = byId('forced-submit');
  submit.disabled = true;
  try {
    await changePassword(current, newInput.value);
    oneTimePassword = null;
    form.reset();
    showKeys(true);
    announce('Your password is saved. Welcome to the partner portal.');
  } catch (error) {
    if (!state.signedIn) return;
    if (error instanceof ApiError && error.status === 403) {
      oneTimePassword = null;
      show(byId('forced-current-field'));
    }
    showPasswordRefusal(error, { currentInput, newInput, box });
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- start

/** Wires the forms and starts from the stored session, if it is still valid. */
export function initSession() {
  setReauthenticator(reauthenticate);
  initSessionDialog();
  initAccountMenu({ onSignOut: () => signOut() });
  lock = signInLock(byId('signin-submit'));
  byId('signin-form').addEventListener('submit', submitSignIn);
  // The lock is per account: another email may try at once.
  byId('signin-email').addEventListener('input', () => lock.release());
  byId('forced-form').addEventListener('submit', submitForced);
  byId('forced-signout').addEventListener('click', () => signOut());

  const current = session.get();
  if (current && (current.expiresAt === null || current.expiresAt > Date.now())) {
    enterApp(current);
  } else if (current) {
    session.clear();
    showSignIn('Your session has ended. Please sign in again.', 'warning');
  } else {
    showSignIn('');
  }
}
