// The Idunox partner portal. Vanilla JavaScript modules, no framework, no build step.
//
// Rules every module keeps:
// - every value from the API is inserted as text (dom.js); nothing is parsed as HTML;
// - the session token stays in sessionStorage (api.js), never in a cookie or a URL;
// - a plaintext key is held only by the one-time key dialog (secret-dialog.js), which only
//   its reader closes.
//
// Modules: api (HTTP), session (sign-in, expiry, re-authentication, sign-out), key-list (the
// list and its query), list-fallback (paging for servers that do not page), key-actions
// (create, rotate, revoke, rename), secret-dialog, password, dialogs, theme, config, notify,
// credential (how a key reads), format (times), dom (safe DOM building), state (shared).

import { loadConfig } from './config.js';
import { initDialogs } from './dialogs.js';
import { byId } from './dom.js';
import { localZoneName, setTimesInUtc, timesInUtc } from './format.js';
import { initKeyActions } from './key-actions.js';
import { initKeyList, rerender } from './key-list.js';
import { initPasswords } from './password.js';
import { initSession } from './session.js';
import { initTheme } from './theme.js';

function renderTimeZone() {
  const utc = timesInUtc();
  byId('time-zone-text').textContent = utc ? 'Times in UTC.' : `Times in your time zone (${localZoneName()}).`;
  const toggle = byId('utc-toggle');
  toggle.setAttribute('aria-pressed', utc ? 'true' : 'false');
  toggle.textContent = 'Show times in UTC';
}

function initTimeZone() {
  renderTimeZone();
  byId('utc-toggle').addEventListener('click', () => {
    setTimesInUtc(!timesInUtc());
    renderTimeZone();
    rerender();
  });
}

function init() {
  initTheme();
  initDialogs();
  initTimeZone();
  initKeyList(initKeyActions());
  initPasswords();
  initSession();
  loadConfig().then(rerender);
  document.documentElement.classList.add('ready');
}

init();
