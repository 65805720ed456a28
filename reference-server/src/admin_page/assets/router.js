// The console's views, each at its own address so that Back, Forward, reload and bookmarks work:
//
//   #/tenants                      the tenant list (also the start page)
//   #/tenants/<tenant id>          one tenant: its users, incident response
//   #/keys?q=&tenant=&status=      the key search, across tenants or within one
//   #/audit?tenant=                the audit trail, across tenants or of one
//
// Fragments that are not routes (the skip link's `#main`) are left alone. Each view module
// registers what to do when its view is entered.

import { byId, show } from './dom.js';

const VIEWS = {
  tenants: { view: 'tenants-view', nav: 'nav-tenants', title: 'tenants-title', label: 'Tenants' },
  tenant: { view: 'tenant-view', nav: 'nav-tenants', title: 'tenant-title', label: 'Tenant' },
  keys: { view: 'keys-view', nav: 'nav-keys', title: 'keys-title', label: 'Keys' },
  audit: { view: 'audit-view', nav: 'nav-audit', title: 'audit-title', label: 'Audit trail' },
};

const entries = {};
let routing = false;
let current = { name: 'tenants', params: {} };

/** The route a fragment names: `{name, params}`, or null when it is no route. */
function parse(hash) {
  if (hash === '' || hash === '#' || hash === '#/') return { name: 'tenants', params: {} };
  if (!hash.startsWith('#/')) return null;
  const [pathText, queryText = ''] = hash.slice(2).split('?', 2);
  const parts = pathText.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const params = Object.fromEntries(new URLSearchParams(queryText));
  if (parts[0] === 'tenants' && parts.length === 2) return { name: 'tenant', params: { ...params, id: parts[1] } };
  if (parts[0] === 'keys' || parts[0] === 'audit') return { name: parts[0], params };
  return { name: 'tenants', params: {} };
}

/** The fragment of a route, e.g. `#/keys?tenant=ten_…` (empty parameters left out). */
export function routeHash(name, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== null && v !== undefined));
  const text = query.toString();
  if (name === 'tenant') return `#/tenants/${encodeURIComponent(params.id)}`;
  return `#/${name}${text ? `?${text}` : ''}`;
}

/** Registers `enter(params)` for a view: called each time the view is shown. */
export function onEnter(name, enter) {
  entries[name] = enter;
}

function showRoute(route, { focus }) {
  current = route;
  const spec = VIEWS[route.name];
  show(byId('console-nav'));
  for (const [name, other] of Object.entries(VIEWS)) show(byId(other.view), name === route.name);
  for (const other of Object.values(VIEWS)) {
    const link = byId(other.nav);
    if (other.nav !== spec.nav) link.removeAttribute('aria-current');
    else link.setAttribute('aria-current', route.name === 'tenant' ? 'true' : 'page');
  }
  document.title = `${spec.label} · Idunox staff console`;
  if (entries[route.name]) entries[route.name](route.params);
  if (focus) byId(spec.title).focus();
}

/** Shows the view the address names (the tenant list by default). */
export function startRouting({ focus = false } = {}) {
  routing = true;
  showRoute(parse(window.location.hash) || current, { focus });
}

/** Hides every view (signed out). */
export function stopRouting() {
  routing = false;
  show(byId('console-nav'), false);
  for (const spec of Object.values(VIEWS)) show(byId(spec.view), false);
  document.title = 'Idunox staff console';
}

/**
 * Rewrites the address of the view on screen without entering it again (a search as it is
 * typed): the address stays shareable and reloadable, and Back does not step through keystrokes.
 */
export function replaceRoute(name, params) {
  const hash = routeHash(name, params);
  if (window.location.hash !== hash) window.history.replaceState(null, '', hash);
  current = { name, params };
}

/** The heading of the view on screen (where focus goes when nothing else should have it). */
export function viewTitle() {
  return byId(VIEWS[current.name].title);
}

/** Follows the address while signed in. */
export function initRouter() {
  window.addEventListener('hashchange', () => {
    const route = parse(window.location.hash);
    if (routing && route) showRoute(route, { focus: true });
  });
}
