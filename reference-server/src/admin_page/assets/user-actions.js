// A tenant's users and what staff do to them: provision a user and reset a password (each shows
// the one-time password once, in the one-time dialog, with copy and the "you have not copied"
// guard), disable and enable, unlock a throttled sign-in. Resetting and disabling end the user's
// sessions, so they ask first.

import { provisionUser, userAction } from './admin-api.js';
import { state } from './admin-state.js';
import { timeEl } from './credential.js';
import { openDialog } from './dialogs.js';
import { append, byId, clear, clearFieldErrors, fieldError, h, notice } from './dom.js';
import { ApiError, messageOf } from './http.js';
import { announce } from './notify.js';
import { viewTitle } from './router.js';
import { showOnce } from './secret-dialog.js';

let page = { tenant: () => null, changed() {} };

function stateBadge(user) {
  if (user.disabled) return h('span', { class: 'badge badge-revoked', 'data-state': 'disabled' }, 'Disabled');
  if (user.must_change_password) {
    return h('span', { class: 'badge badge-expiring', 'data-state': 'one-time' }, 'One-time password');
  }
  return h('span', { class: 'badge badge-active', 'data-state': 'active' }, 'Active');
}

function actionButton(user, action, text, className = 'button small') {
  const button = h(
    'button',
    { class: className, type: 'button', 'data-action': action, 'aria-label': `${text}: ${user.email}` },
    text,
  );
  button.addEventListener('click', () => ACTIONS[action](user, button));
  return button;
}

/** One user's row: email, state, last sign-in, creation, and the actions. */
export function userRow(user) {
  return h(
    'tr',
    { 'data-id': String(user.id), class: 'user-row' },
    h('td', { class: 'col-email', 'data-label': 'Email' }, h('span', { class: 'user-email', title: String(user.email) }, String(user.email))),
    h('td', { class: 'col-state', 'data-label': 'State' }, stateBadge(user)),
    h(
      'td',
      { class: 'col-login', 'data-label': 'Last sign-in' },
      user.last_login_at ? timeEl(user.last_login_at) : h('span', { class: 'muted' }, 'Never'),
    ),
    h('td', { class: 'col-created', 'data-label': 'Created' }, user.created_at ? timeEl(user.created_at, { dateOnly: true }) : ''),
    h(
      'td',
      { class: 'actions-cell' },
      h(
        'div',
        { class: 'row-actions' },
        actionButton(user, 'reset-password', 'Reset password'),
        user.disabled ? actionButton(user, 'enable', 'Enable') : actionButton(user, 'disable', 'Disable', 'button small danger-outline'),
        actionButton(user, 'unlock', 'Unlock'),
      ),
    ),
  );
}

/** Moves focus to a user's action button (its row was drawn again), or to the heading. */
function focusUser(id, action) {
  const row = document.querySelector(`#users-body tr[data-id="${CSS.escape(id)}"]`);
  const target = row && (row.querySelector(`button[data-action="${action}"]`) || row.querySelector('button'));
  (target || viewTitle()).focus();
}

/** Shows a one-time password once; focus returns to the user's row when it is closed. */
function showOneTimePassword(user, secret, title) {
  const tenant = page.tenant();
  showOnce({
    title,
    secret,
    about: [
      'For ',
      h('strong', { class: 'dialog-name' }, String(user.email)),
      tenant ? [' · ', h('span', { class: 'dialog-name' }, String(tenant.name))] : null,
    ],
    warning: [
      h('strong', {}, 'Copy this password now. It will not be shown again. '),
      'Give it to the user over a secure channel. It works for one sign-in: they must then choose their own password.',
    ],
    fieldLabel: 'One-time password',
    unsavedText:
      'You have not copied the password. Once this dialog is closed nobody can see it again, and you would have to reset it. Copy it now, or choose Close without copying.',
    note: null,
    onClose: () => {
      if (!state.signedIn) byId('signin-email').focus();
      else focusUser(user.id, 'reset-password');
    },
  });
}

// ---------------------------------------------------------------- provision

function openProvision(event) {
  const tenant = page.tenant();
  if (!tenant) return;
  const form = byId('user-form');
  form.reset();
  clearFieldErrors(form);
  notice(byId('user-form-error'), '');
  byId('user-dialog-text').textContent = `A new user of ${tenant.name}. They get a one-time password, shown to you once, and choose their own at first sign-in.`;
  openDialog(byId('user-dialog'), event.currentTarget, byId('user-email'));
}

async function submitProvision(event) {
  event.preventDefault();
  const tenant = page.tenant();
  const input = byId('user-email');
  clearFieldErrors(byId('user-form'));
  notice(byId('user-form-error'), '');
  const email = input.value.trim();
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
    fieldError(input, email ? 'Enter an email address such as it-ops@example.com.' : 'Enter the user’s email.');
    input.focus();
    return;
  }
  if (!tenant) return;
  const submit = byId('user-submit');
  submit.disabled = true;
  try {
    const data = await provisionUser(tenant.id, email);
    const dialog = byId('user-dialog');
    dialog.returnFocusTo = false;
    dialog.close();
    const user = data?.user || { id: '', email };
    page.changed(user, { added: true });
    announce(`User ${user.email} provisioned.`);
    showOneTimePassword(user, data?.initial_password ?? '', 'One-time password of the new user');
    if (data) data.initial_password = null;
  } catch (error) {
    if (!state.signedIn) return;
    if (error instanceof ApiError && (error.status === 422 || error.status === 409)) {
      fieldError(input, error.message);
      input.focus();
    } else {
      notice(byId('user-form-error'), messageOf(error));
    }
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- confirmations

let confirming = null;

/**
 * Asks before an action: `title` and `text` (nodes or strings), `label` of the confirming
 * button, `danger`, and `run()`, which does it (its errors are shown in the dialog).
 */
function confirmAction(opener, { title, text, label, danger = false, run }) {
  confirming = run;
  append(clear(byId('confirm-title')), [title]);
  append(clear(byId('confirm-text')), [text]);
  const submit = byId('confirm-submit');
  submit.textContent = label;
  submit.className = `button ${danger ? 'danger' : 'primary'}`;
  notice(byId('confirm-error'), '');
  openDialog(byId('confirm-dialog'), opener, byId('confirm-cancel'));
}

async function submitConfirm(event) {
  event.preventDefault();
  const run = confirming;
  if (!run) return;
  const submit = byId('confirm-submit');
  submit.disabled = true;
  try {
    await run();
    confirming = null;
  } catch (error) {
    if (state.signedIn) notice(byId('confirm-error'), messageOf(error));
  } finally {
    submit.disabled = false;
  }
}

function closeConfirm() {
  const dialog = byId('confirm-dialog');
  dialog.returnFocusTo = false;
  dialog.close();
}

// ---------------------------------------------------------------- the actions

const who = (user) => h('span', { class: 'dialog-name' }, String(user.email));

const ACTIONS = {
  'reset-password'(user, button) {
    confirmAction(button, {
      title: ['Reset the password of ', who(user), '?'],
      text: 'Their password stops working and every session of theirs ends at once. You get a one-time password to give them; they choose their own at the next sign-in.',
      label: 'Reset password',
      danger: true,
      run: async () => {
        const data = await userAction(user.id, 'reset-password');
        closeConfirm();
        const changed = data?.user || { ...user, must_change_password: true };
        page.changed(changed);
        announce(`Password of ${user.email} reset.`);
        showOneTimePassword(changed, data?.initial_password ?? '', 'New one-time password');
        if (data) data.initial_password = null;
      },
    });
  },
  disable(user, button) {
    confirmAction(button, {
      title: ['Disable ', who(user), '?'],
      text: 'They cannot sign in until enabled again, and every session of theirs ends at once. Their keys keep working: revoke those separately if needed.',
      label: 'Disable user',
      danger: true,
      run: async () => {
        const data = await userAction(user.id, 'disable');
        closeConfirm();
        page.changed(data?.user || { ...user, disabled: true });
        focusUser(user.id, 'enable');
        announce(`${user.email} disabled: signed out everywhere.`);
      },
    });
  },
  async enable(user, button) {
    button.disabled = true;
    try {
      const data = await userAction(user.id, 'enable');
      page.changed(data?.user || { ...user, disabled: false });
      focusUser(user.id, 'disable');
      announce(`${user.email} enabled: they can sign in again.`);
    } catch (error) {
      if (state.signedIn) announce(`${user.email} could not be enabled: ${messageOf(error)}`);
      button.disabled = false;
    }
  },
  async unlock(user, button) {
    button.disabled = true;
    try {
      const data = await userAction(user.id, 'unlock');
      if (data?.user) page.changed(data.user);
      focusUser(user.id, 'unlock');
      announce(`Sign-in of ${user.email} unlocked: failed attempts are forgotten.`);
    } catch (error) {
      if (state.signedIn) announce(`Sign-in of ${user.email} could not be unlocked: ${messageOf(error)}`);
    } finally {
      button.disabled = false;
    }
  },
};

/**
 * Wires provisioning and the confirmation dialog. `options.tenant()`: the tenant on screen;
 * `options.changed(user, {added})`: shows a user's new state.
 */
export function initUserActions(options) {
  page = options;
  byId('user-new').addEventListener('click', openProvision);
  byId('user-form').addEventListener('submit', submitProvision);
  byId('confirm-form').addEventListener('submit', submitConfirm);
  byId('confirm-dialog').addEventListener('close', () => {
    confirming = null;
  });
}
