// Passwords: strength feedback while typing, and the "Change password" dialog
// (`POST /v1/partner/me/password`). The forced change after a one-time password (session.js)
// uses the same checks.

import { ApiError, changePassword, messageOf } from './api.js';
import { openDialog } from './dialogs.js';
import { byId, clearFieldErrors, fieldError, h, notice } from './dom.js';
import { announce } from './notify.js';
import { state } from './state.js';

/** The server refuses shorter passwords (`weak_password`). */
export const MIN_PASSWORD_LENGTH = 12;

const COMMON = ['password', 'passwort', 'qwerty', 'azerty', 'letmein', 'welcome', 'admin', 'idunox', 'iloveyou', 'monkey', 'dragon'];
const SEQUENCES = ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];

function hasRun(lower) {
  for (const seq of SEQUENCES) {
    for (let i = 0; i + 4 <= seq.length; i += 1) {
      const part = seq.slice(i, i + 4);
      if (lower.includes(part) || lower.includes([...part].reverse().join(''))) return true;
    }
  }
  return false;
}

/**
 * A rough strength estimate: `{level: 0..4, label, advice}`. Level 0 is refused (too short);
 * the rest only advise. `context`: words the password should not be built on (the email).
 */
export function passwordStrength(password, context = []) {
  const chars = [...password];
  if (chars.length === 0) return { level: 0, label: 'Empty', advice: `Use at least ${MIN_PASSWORD_LENGTH} characters.` };
  if (chars.length < MIN_PASSWORD_LENGTH) {
    return { level: 0, label: 'Too short', advice: `Use at least ${MIN_PASSWORD_LENGTH} characters (${chars.length} so far).` };
  }
  let pool = 0;
  if (/[a-z]/.test(password)) pool += 26;
  if (/[A-Z]/.test(password)) pool += 26;
  if (/[0-9]/.test(password)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(password)) pool += 33;
  const distinct = new Set(chars).size;
  let bits = Math.min(chars.length, distinct * 3) * Math.log2(Math.max(pool, 2));
  const lower = password.toLowerCase();
  const weakWords = COMMON.concat(context.map((w) => String(w).toLowerCase()).filter((w) => w.length >= 4));
  let advice = '';
  if (weakWords.some((w) => lower.includes(w))) {
    bits = Math.min(bits, 40);
    advice = 'Avoid common words and your email address.';
  } else if (hasRun(lower)) {
    bits = Math.min(bits, 55);
    advice = 'Avoid runs like “1234” or “qwer”.';
  } else if (distinct < 6) {
    bits = Math.min(bits, 40);
    advice = 'Avoid repeating the same few characters.';
  }
  if (bits < 50) return { level: 1, label: 'Weak', advice: advice || 'Add more words or characters.' };
  if (bits < 70) return { level: 2, label: 'Fair', advice: advice || 'A few more words make it strong.' };
  if (bits < 90) return { level: 3, label: 'Good', advice: advice || 'Longer is stronger still.' };
  return { level: 4, label: 'Strong', advice: advice || 'A password manager can remember it for you.' };
}

function emailWords() {
  const email = state.email || '';
  return email.split(/[@.+_-]/).filter(Boolean);
}

/** Shows the strength of `input` in its `[data-strength-for]` box as the person types. */
export function attachStrength(input) {
  const box = document.querySelector(`[data-strength-for="${input.id}"]`);
  if (!box) return;
  const fill = h('span', { class: 'strength-fill', 'data-level': '0' });
  const text = h('span', { class: 'strength-text', 'aria-live': 'polite' });
  box.replaceChildren(h('span', { class: 'strength-bar', 'aria-hidden': 'true' }, fill), text);
  const update = () => {
    const s = passwordStrength(input.value, emailWords());
    fill.dataset.level = String(input.value ? s.level : 0);
    text.textContent = input.value ? `Strength: ${s.label}. ${s.advice}` : `At least ${MIN_PASSWORD_LENGTH} characters.`;
  };
  input.addEventListener('input', update);
  input.addEventListener('reset-strength', update);
  update();
}

/** Refreshes a strength box after the field was changed by script (form reset). */
export function refreshStrength(input) {
  input.dispatchEvent(new Event('reset-strength'));
}

/**
 * Checks a new password and its repetition, marking the fields; true when both are fine.
 * `current`: the present password, which the new one must differ from (if known).
 */
export function checkNewPassword(newInput, confirmInput, current = null) {
  const value = newInput.value;
  if ([...value].length < MIN_PASSWORD_LENGTH) {
    fieldError(newInput, `The new password needs at least ${MIN_PASSWORD_LENGTH} characters.`);
    newInput.focus();
    return false;
  }
  if (current !== null && value === current) {
    fieldError(newInput, 'The new password must differ from the current one.');
    newInput.focus();
    return false;
  }
  if (confirmInput.value !== value) {
    fieldError(confirmInput, 'The two new passwords differ.');
    confirmInput.focus();
    return false;
  }
  return true;
}

/** Where the server's refusal of a password change belongs; true when it was shown on a field. */
export function showPasswordRefusal(error, { currentInput = null, newInput, box }) {
  if (error instanceof ApiError && error.status === 403 && currentInput) {
    fieldError(currentInput, 'The current password is not correct.');
    currentInput.focus();
    return true;
  }
  if (error instanceof ApiError && error.status === 422) {
    fieldError(newInput, error.message);
    newInput.focus();
    return true;
  }
  if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
    notice(box, 'This server cannot change passwords yet.');
    return false;
  }
  notice(box, messageOf(error));
  return false;
}

// ---------------------------------------------------------------- the dialog

function openPasswordDialog(event) {
  const form = byId('password-form');
  form.reset();
  clearFieldErrors(form);
  notice(byId('password-error'), '');
  refreshStrength(byId('password-new'));
  openDialog(byId('password-dialog'), event.currentTarget.closest('.account')?.querySelector('#account-button'), byId('password-current'));
}

async function submitPasswordDialog(event) {
  event.preventDefault();
  const form = byId('password-form');
  const currentInput = byId('password-current');
  const newInput = byId('password-new');
  const confirmInput = byId('password-confirm');
  const box = byId('password-error');
  clearFieldErrors(form);
  notice(box, '');
  if (!currentInput.value) {
    fieldError(currentInput, 'Enter your current password.');
    currentInput.focus();
    return;
  }
  if (!checkNewPassword(newInput, confirmInput, currentInput.value)) return;
  const submit = byId('password-submit');
  submit.disabled = true;
  try {
    await changePassword(currentInput.value, newInput.value);
    form.reset();
    byId('password-dialog').close();
    announce('Your password was changed. Your other sessions are signed out.');
  } catch (error) {
    if (state.signedIn) showPasswordRefusal(error, { currentInput, newInput, box });
  } finally {
    submit.disabled = false;
  }
}

/** Wires the change-password dialog and the strength boxes of the page. */
export function initPasswords() {
  for (const input of document.querySelectorAll('input[autocomplete="new-password"][minlength]')) attachStrength(input);
  byId('password-form').addEventListener('submit', submitPasswordDialog);
  byId('password-open').addEventListener('click', openPasswordDialog);
  byId('password-dialog').addEventListener('close', () => byId('password-form').reset());
}
