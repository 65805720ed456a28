// The Idunox partner portal. Vanilla JavaScript modules, no framework, no build step.
//
// Rules every module keeps:
// - every value from the API is inserted as text (dom.js); nothing is parsed as HTML;
// - the session token stays in sessionStorage (api.js), never in a cookie or a URL;
// - a plaintext key is held only by the one-time key dialog (secret-dialog.js), which only
//   its reader closes.
//
// Modules: api (the partner API over http.js), session (sign-in, the forced change, sign-out; the
// warning and re-authentication in session-dialog, timers and throttling in session-common, the
// header menu in account-menu), sections (API keys and Activity, by address), key-list (the list
// and its query, paged by the server), key-actions (create,
// rotate, revoke, edit), restrictions (scopes and allowed addresses in a form), activity (the
// audit trail, drawn by audit.js), secret-dialog, password, dialogs (and dialog-markup, the
// dialogs both pages build by script), theme, time-zone, config, notify, credential (how a key
// reads), format (times), dom (safe DOM building), state (shared).
// The staff console at /admin serves the modules that hold nothing specific to partners (see
// SHARED_WITH_PORTAL in reference-server/src/admin_page/mod.rs), and app.css, the style sheet
// of both pages.

import { initActivity, rerenderActivity } from './activity.js';
import { loadConfig } from './config.js';
import { addDialogs } from './dialog-markup.js';
import { initDialogs } from './dialogs.js';
import { byId } from './dom.js';
import { initKeyActions } from './key-actions.js';
import { initKeyList, rerender } from './key-list.js';
import { initPasswords } from './password.js';
import { initSections, sectionTitle } from './sections.js';
import { initSession } from './session.js';
import { state } from './state.js';
import { initTheme } from './theme.js';
import { initTimeZone } from './time-zone.js';

function init() {
  initTheme();
  addDialogs();
  initDialogs({
    active: () => state.signedIn,
    fallbackFocus: () => (byId('keys-view').hidden ? sectionTitle() : byId('create-open')),
  });
  initTimeZone(() => {
    rerender();
    rerenderActivity();
  });
  initKeyList(initKeyActions());
  initActivity();
  initSections();
  initPasswords();
  initSession();
  loadConfig().then(rerender);
  document.documentElement.classList.add('ready');
}

init();
