// The sign-in form of both pages (`#signin-form`): the fields checked before anything is sent,
// the button held while signing in and, after a 429, for its `Retry-After`; wrong credentials
// and throttling said in the form's notice. The partner portal asks for email and password; the
// staff console also for a TOTP code (`#signin-totp`).

import { byId, clearFieldErrors, fieldError, notice } from './dom.js';
import { ApiError, messageOf } from './http.js';
import { signInLock, throttledText } from './session-common.js';
import { checkCode, codeOf } from './session-dialog.js';

/**
 * Wires the sign-in form. `page`:
 * - `code`: whether it has a TOTP code field;
 * - `wrongText`: what a 401 says;
 * - `signIn(email, password, code)`: signs in and enters the page (rejects with the API error).
 */
export function initSignInForm(page) {
  const submit = byId('signin-submit');
  const lock = signInLock(submit);

  async function onSubmit(event) {
    event.preventDefault();
    const box = byId('signin-message');
    const emailInput = byId('signin-email');
    const passwordInput = byId('signin-password');
    const codeInput = page.code ? byId('signin-totp') : null;
    clearFieldErrors(byId('signin-form'));
    notice(box, '');
    const email = emailInput.value.trim();
    const password = passwordInput.value;
    const missing = [];
    if (!email) missing.push([emailInput, 'Enter your email.']);
    if (!password) missing.push([passwordInput, 'Enter your password.']);
    for (const [input, message] of missing) fieldError(input, message);
    const codeOk = codeInput ? checkCode(codeInput) : true;
    if (missing.length || !codeOk) {
      (missing.length ? missing[0][0] : codeInput).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    let locked = false;
    try {
      await page.signIn(email, password, codeInput ? codeOf(codeInput) : undefined);
      passwordInput.value = '';
      if (codeInput) codeInput.value = '';
    } catch (error) {
      box.className = 'notice error';
      if (error instanceof ApiError && error.status === 401) {
        notice(box, page.wrongText);
        if (codeInput) codeInput.value = '';
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

  byId('signin-form').addEventListener('submit', onSubmit);
  // The lock is per account: another email may try at once.
  byId('signin-email').addEventListener('input', () => lock.release());
}
