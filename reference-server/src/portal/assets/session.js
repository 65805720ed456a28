// The session: sign-in, the forced password change, and sign-out; the warning before the session
// ends and re-authentication are the session dialog's (session-dialog.js, shared with the staff
// console), which asks for the password again (a normal sign-in with the same email, which gives
// a new token) on top of whatever is open. Only the person ends a session: "Sign out" here, or in
// the account menu.

import { closeAccountMenu, initAccountMenu } from './account-menu.js';
import { ApiError, changePassword, login, logout, me, session, setReauthenticator } from './api.js';
import { closeDialogs } from './dialogs.js';
import { byId, clearFieldErrors, fieldError, notice, show } from './dom.js';
import { resetActivity } from './activity.js';
import { resetKeyActions } from './key-actions.js';
import { resetKeyList } from './key-list.js';
import { announce, clearAnnouncement } from './notify.js';
import { checkNewPassword, refreshStrength, showPasswordRefusal } from './password.js';
import { hideSections, showSection } from './sections.js';
import { secretShown } from './secret-dialog.js';
import { sessionTimes } from './session-common.js';
import { sessionKeeper } from './session-dialog.js';
import { initSignInForm } from './signin-form.js';
import { state } from './state.js';

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

/** Signs in again with the same email (a new token), in the session dialog. */
async function renew(password) {
  const before = session.get();
  const data = await login(state.email, password);
  const next = sessionFrom(data, state.email);
  if (before && before.tenant && next.tenant && before.tenant.id !== next.tenant.id) {
    // Not the same organisation: nothing of the page may carry over.
    endSession('Signed in to another organisation: please sign in again.', 'warning');
    return null;
  }
  session.set(next);
  return next;
}

const keeper = sessionKeeper({ state, session, code: false, secretName: 'key', renew, signOut: () => signOut() });

/** Asks the person to sign in again (see session-dialog.js); `true` once they have. */
const reauthenticate = keeper.reauthenticate;

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
  keeper.schedule(current);
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
  keeper.stop();
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

/** Signs in from the form and enters the page (errors: signin-form.js). */
async function signIn(email, password) {
  const data = await login(email, password);
  const current = sessionFrom(data, email);
  session.set(current);
  oneTimePassword = password;
  state.email = current.user?.email || email;
  await enterApp(current, { focus: true });
  if (state.signedIn && byId('keys-view').hidden === false) announce(`Signed in as ${state.email}.`);
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
  keeper.init();
  initAccountMenu({ onSignOut: () => signOut() });
  initSignInForm({ code: false, wrongText: 'The email or password is incorrect.', signIn });
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
