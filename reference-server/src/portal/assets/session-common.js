// What the partner portal's and the staff console's sessions share: when a session ends and the
// warning before it, one re-authentication at a time however many calls met a 401, the sign-in
// button held back while sign-in is throttled, and how a throttled sign-in reads.

import { durationText } from './format.js';

/** The warning comes this long before the end, or after 80 % of a shorter session. */
const WARN_BEFORE_MS = 5 * 60 * 1000;
/** Longest delay `setTimeout` takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** When a session that the server gave `expires_in` seconds ends: `{expiresAt, ttlMs}` (ms). */
export function sessionTimes(data) {
  const ttlMs = Number.isFinite(Number(data?.expires_in)) ? Number(data.expires_in) * 1000 : null;
  return { expiresAt: ttlMs === null ? null : Date.now() + ttlMs, ttlMs };
}

/** The two timers of a session: `schedule(current, {warn, expire})` and `clear()`. */
export function expiryTimers() {
  const timers = { warn: 0, expire: 0 };
  const clear = () => {
    window.clearTimeout(timers.warn);
    window.clearTimeout(timers.expire);
  };
  return {
    /** Calls `warn()` shortly before `current.expiresAt` and `expire()` at it. */
    schedule(current, { warn, expire }) {
      clear();
      if (!Number.isFinite(current.expiresAt)) return;
      const now = Date.now();
      const ttl = Number.isFinite(current.ttlMs) ? current.ttlMs : current.expiresAt - now;
      const lead = Math.min(WARN_BEFORE_MS, ttl / 5);
      const delay = (at) => Math.min(Math.max(at - now, 0), MAX_TIMER_MS);
      timers.warn = window.setTimeout(warn, delay(current.expiresAt - lead));
      timers.expire = window.setTimeout(expire, delay(current.expiresAt));
    },
    clear,
  };
}

/**
 * One pending re-authentication shared by every caller: `wait()` resolves `true` once the person
 * signed in again, `false` if the session is over; `settle(value)` ends the wait.
 */
export function reauthGate() {
  let pending = null;
  return {
    wait() {
      if (!pending) {
        let resolve;
        const promise = new Promise((r) => {
          resolve = r;
        });
        pending = { promise, resolve };
      }
      return pending.promise;
    },
    settle(value) {
      if (pending) {
        pending.resolve(value);
        pending = null;
      }
    },
  };
}

/** "Too many failed sign-in attempts…", with when to try again if the server said. */
export function throttledText(error, scope = '') {
  const base = `Too many failed sign-in attempts${scope}.`;
  return error.retryAfterSeconds !== null
    ? `${base} Try again in ${durationText(error.retryAfterSeconds)}.`
    : `${base} Try again later.`;
}

/**
 * Keeps a sign-in button disabled for the `Retry-After` of a 429 (`error`); `release()` enables it
 * at once (another email may try). Returns whether the button is now held.
 */
export function signInLock(button) {
  let timer = 0;
  return {
    hold(error) {
      const wait = error.retryAfterSeconds;
      if (wait === null || !(wait > 0)) return false;
      window.clearTimeout(timer);
      button.disabled = true;
      timer = window.setTimeout(() => {
        button.disabled = false;
      }, Math.min(wait * 1000, MAX_TIMER_MS));
      return true;
    },
    release() {
      window.clearTimeout(timer);
      button.disabled = false;
    },
  };
}
