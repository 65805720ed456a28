// The Idunox staff console. Vanilla JavaScript modules, no framework, no build step; the same
// rules as the partner portal (see its app.js): every value from the API is inserted as text,
// the staff token stays in sessionStorage, a one-time password is held only by the one-time
// dialog, which only its reader closes.
//
// The console's own modules: admin-api (the staff API), admin-session (sign-in with TOTP,
// sign-out), admin-state, router (views by address), tenants, tenant-view, user-actions,
// key-search (the server's key list across tenants), key-changes (revoke,
// restrict), audit-view. Shared with the portal and served from its assets: http, dom, format,
// time-zone, theme, notify, dialogs, dialog-markup (the session, revoke and edit dialogs),
// account-menu, session-common, session-dialog (the warning and re-authentication),
// restrictions, secret-dialog, credential, audit, and the style sheet app.css.

import { initSession, onSignOut } from './admin-session.js';
import { initAuditView, rerenderAuditView } from './audit-view.js';
import { addDialogs } from './dialog-markup.js';
import { initDialogs } from './dialogs.js';
import { initKeyChanges, resetKeyChanges } from './key-changes.js';
import { initKeySearch, rerenderKeySearch } from './key-search.js';
import { state } from './admin-state.js';
import { initRouter, viewTitle } from './router.js';
import { initTenantView, rerenderTenantView } from './tenant-view.js';
import { initTenants, rerenderTenants } from './tenants.js';
import { initTheme } from './theme.js';
import { initTimeZone } from './time-zone.js';

function init() {
  initTheme();
  addDialogs({ code: true });
  initDialogs({ active: () => state.signedIn, fallbackFocus: viewTitle });
  initTimeZone(() => {
    rerenderTenants();
    rerenderTenantView();
    rerenderKeySearch();
    rerenderAuditView();
  });
  initRouter();
  initTenants();
  initTenantView();
  initKeySearch(initKeyChanges());
  onSignOut(resetKeyChanges);
  initAuditView();
  initSession();
  document.documentElement.classList.add('ready');
}

init();
