// The staff session: sign-in with email, password and a TOTP code, the warning before the
// session ends, re-authentication in a dialog, and sign-out.
//
// As in the partner portal, nothing on the page is thrown away when the session ends (its timer,
// or any call answered 401): a modal dialog asks for the password and a fresh code on top of
// whatever is open — a half-filled form, a one-time password not yet copied — and the calls
// waiting on the 401 are sent again once signed in (http.js). Only the person ends a session.

import { closeAccountMenu, initAccountMenu } from './account-menu.js';
import { getConfig, login, logout, session, setReauthenticator } from './admin-api.js';
import { state } from './admin-state.js';
import { closeDialogs } from './dialogs.js';
import { byId, clearFieldErrors, fieldError, notice, show } from './dom.js';
import { formatDateTime, untilText } from './format.js';
import { ApiError, messageOf } from './http.js';
import { announce, clearAnnouncement } from './notify.js';
import { startRouting, stopRouting } from './router.js';
import { secretShown } from './secret-dialog.js';
import { expiryTimers, reauthGate, sessionTimes, signInLock, throttledText } from './session-common.js';

const expiry = expiryTimers();
const gate = reauthGate();
/** Holds the sign-in button while sign-in is throttled (set up in `initSession`). */
let lock = null;
/** What each view forgets at sign-out (registered by the view modules). */
const resets = [];

/** Registers what a module forgets when the session ends. */
export function onSignOut(reset) {
  resets.push(reset);
}

function sessionFrom(data, email) {
  return { ...sessionTimes(data), token: data.token, staff: data.staff || { email } };
}

function schedule(current) {
  expiry.schedule(current, {
    warn: () => openSessionDialog('warning'),
    expire: () => {
      if (state.signedIn) reauthenticate();
    },
  });
}

/** A TOTP code as typed: digits only (spaces and dashes people copy are dropped). */
function codeOf(input) {
  return input.value.replace(/[\s-]/g, '');
}

/** Marks the code field when it is not 6 digits; true when it is. */
function checkCode(input) {
  const code = codeOf(input);
  if (/^\d{6}$/.test(code)) return true;
  fieldError(input, code ? 'The code has 6 digits.' : 'Enter the 6-digit code from your authenticator app.');
  return false;
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
    ? ' Nothing on this page is lost: the one-time password you are being shown stays open underneath.'
    : ' Nothing on this page is lost.';
  if (mode === 'warning') {
    const at = current && Number.isFinite(current.expiresAt) ? new Date(current.expiresAt).toISOString() : null;
    byId('session-title').textContent = 'Your session ends soon';
    byId('session-text').textContent = at
      ? `For your security, your session ends ${untilText(at)} (${formatDateTime(at)}). Enter your password and a new code to stay signed in.${keep}`
      : `Your session ends soon. Enter your password and a new code to stay signed in.${keep}`;
    byId('session-submit').textContent = 'Stay signed in';
  } else {
    byId('session-title').textContent = 'Your session has ended';
    byId('session-text').textContent = `Enter your password and a new code to continue where you left off.${keep}`;
    byId('session-submit').textContent = 'Sign in';
  }
  show(byId('session-later'), mode === 'warning');
  if (!dialog.open) {
    byId('session-password').value = '';
    byId('session-totp').value = '';
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

async function submitSessionDialog(event) {
  event.preventDefault();
  const password = byId('session-password');
  const code = byId('session-totp');
  const box = byId('session-error');
  clearFieldErrors(byId('session-form'));
  notice(box, '');
  if (!password.value) {
    fieldError(password, 'Enter your password.');
    password.focus();
    return;
  }
  if (!checkCode(code)) {
    code.focus();
    return;
  }
  const submit = byId('session-submit');
  submit.disabled = true;
  try {
    const data = await login(state.email, password.value, codeOf(code));
    password.value = '';
    code.value = '';
    const next = sessionFrom(data, state.email);
    session.set(next);
    schedule(next);
    byId('session-dialog').close();
    gate.settle(true);
    announce(`You are still signed in, until ${formatDateTime(new Date(next.expiresAt).toISOString())}.`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      notice(box, 'The password or the code is not correct. A code works once: wait for the next one.');
      code.value = '';
      password.select();
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

// ---------------------------------------------------------------- signed in, signed out

function showSignIn(message, kind = 'info') {
  stopRouting();
  show(byId('signin-view'));
  show(byId('account'), false);
  const box = byId('signin-message');
  box.className = `notice ${kind}`;
  notice(box, message);
  byId('signin-password').value = '';
  byId('signin-totp').value = '';
  if (!secretShown()) byId('signin-email').focus();
}

function enterConsole(current, { focus = false } = {}) {
  state.signedIn = true;
  state.email = current.staff?.email || state.email;
  byId('account-email').textContent = state.email;
  byId('account-menu-email').textContent = state.email;
  show(byId('account'));
  show(byId('signin-view'), false);
  notice(byId('signin-message'), '');
  schedule(current);
  startRouting({ focus });
}

/** Ends the session in this page, keeping only a one-time dialog the person has not closed. */
function endSession(message, kind = 'info') {
  state.signedIn = false;
  session.clear();
  expiry.clear();
  gate.settle(false);
  closeDialogs();
  closeAccountMenu();
  for (const reset of resets) reset();
  clearAnnouncement();
  showSignIn(message, kind);
}

/** Signs out: this page at once, and the token on the server (best effort). */
export function signOut(message = 'You have signed out.') {
  const current = session.get();
  endSession(message, 'info');
  if (current) logout(current.token).catch(() => {});
}

async function submitSignIn(event) {
  event.preventDefault();
  const box = byId('signin-message');
  const emailInput = byId('signin-email');
  const passwordInput = byId('signin-password');
  const codeInput = byId('signin-totp');
  clearFieldErrors(byId('signin-form'));
  notice(box, '');
  const email = emailInput.value.trim();
  const password = passwordInput.value;
  const missing = [];
  if (!email) missing.push([emailInput, 'Enter your email.']);
  if (!password) missing.push([passwordInput, 'Enter your password.']);
  for (const [input, message] of missing) fieldError(input, message);
  const codeOk = checkCode(codeInput);
  if (missing.length || !codeOk) {
    (missing.length ? missing[0][0] : codeInput).focus();
    return;
  }
  const submit = byId('signin-submit');
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  let locked = false;
  try {
    const data = await login(email, password, codeOf(codeInput));
    const current = sessionFrom(data, email);
    session.set(current);
    passwordInput.value = '';
    codeInput.value = '';
    state.email = current.staff?.email || email;
    enterConsole(current, { focus: true });
    announce(`Signed in as ${state.email}.`);
  } catch (error) {
    box.className = 'notice error';
    if (error instanceof ApiError && error.status === 401) {
      notice(box, 'The email, password or code is not correct. A code works once: if you just used it, wait for the next one.');
      codeInput.value = '';
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

// ---------------------------------------------------------------- configuration

function renderEnvironment(environment) {
  if (typeof environment !== 'string' || !environment) return;
  const badge = byId('env-badge');
  badge.replaceChildren(environment);
  const hidden = document.createElement('span');
  hidden.className = 'visually-hidden';
  hidden.textContent = ' environment';
  badge.append(hidden);
  badge.className = `env-badge ${environment === 'live' ? 'env-live' : 'env-nonlive'}`;
  show(badge);
  document.documentElement.dataset.environment = environment;
}

/** Loads the public configuration: the environment badge and the scope catalogue. */
async function loadConfig() {
  try {
    const config = await getConfig();
    if (config && typeof config === 'object') {
      state.config = {
        environment: typeof config.environment === 'string' ? config.environment : '',
        scopes: Array.isArray(config.scopes) ? config.scopes.filter((s) => s && typeof s.name === 'string') : [],
      };
      renderEnvironment(state.config.environment);
    }
  } catch {
    // The badge stays hidden; editing scopes then offers only what a key already carries.
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
  loadConfig();

  const current = session.get();
  if (current && (current.expiresAt === null || current.expiresAt > Date.now())) {
    enterConsole(current);
  } else if (current) {
    session.clear();
    showSignIn('Your session has ended. Please sign in again.', 'warning');
  } else {
    showSignIn('');
  }
}
