// The staff session: sign-in with email, password and a TOTP code, and sign-out. The warning
// before the session ends and re-authentication are the session dialog's (session-dialog.js,
// shared with the partner portal), which here asks for the password and a fresh code on top of
// whatever is open. Only the person ends a session.

import { closeAccountMenu, initAccountMenu } from './account-menu.js';
import { getConfig, login, logout, session, setReauthenticator } from './admin-api.js';
import { state } from './admin-state.js';
import { closeDialogs } from './dialogs.js';
import { byId, notice, show } from './dom.js';
import { announce, clearAnnouncement } from './notify.js';
import { startRouting, stopRouting } from './router.js';
import { secretShown } from './secret-dialog.js';
import { sessionTimes } from './session-common.js';
import { sessionKeeper } from './session-dialog.js';
import { initSignInForm } from './signin-form.js';

/** What each view forgets at sign-out (registered by the view modules). */
const resets = [];

/** Registers what a module forgets when the session ends. */
export function onSignOut(reset) {
  resets.push(reset);
}

function sessionFrom(data, email) {
  return { ...sessionTimes(data), token: data.token, staff: data.staff || { email } };
}

/** Signs in again with the same email, password and a fresh code, in the session dialog. */
async function renew(password, code) {
  const next = sessionFrom(await login(state.email, password, code), state.email);
  session.set(next);
  return next;
}

const keeper = sessionKeeper({
  state,
  session,
  code: true,
  secretName: 'one-time password',
  renew,
  signOut: () => signOut(),
});

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
  keeper.schedule(current);
  startRouting({ focus });
}

/** Ends the session in this page, keeping only a one-time dialog the person has not closed. */
function endSession(message, kind = 'info') {
  state.signedIn = false;
  session.clear();
  keeper.stop();
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

/** Signs in from the form and enters the console (errors: signin-form.js). */
async function signIn(email, password, code) {
  const data = await login(email, password, code);
  const current = sessionFrom(data, email);
  session.set(current);
  state.email = current.staff?.email || email;
  enterConsole(current, { focus: true });
  announce(`Signed in as ${state.email}.`);
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
  setReauthenticator(keeper.reauthenticate);
  keeper.init();
  initAccountMenu({ onSignOut: () => signOut() });
  initSignInForm({
    code: true,
    wrongText: 'The email, password or code is not correct. A code works once: if you just used it, wait for the next one.',
    signIn,
  });
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
