// The audit trail across tenants (`#/audit?tenant=`): every tenant's entries, newest first, a
// page at a time, with a tenant filter; who acted reads "Staff", "User" or "Anonymous" with the
// email. Staff sign-ins belong to no tenant: they are listed under all tenants.

import { listAudit } from './admin-api.js';
import { onSignOut } from './admin-session.js';
import { state, tenantName } from './admin-state.js';
import { auditList } from './audit.js';
import { byId, h } from './dom.js';
import { onEnter, replaceRoute, routeHash } from './router.js';
import { bindTenantPicker, knownTenants } from './tenants.js';

let tenant = '';
let list = null;

/** The tenant of an entry: `tenant: {id, name}` or `tenant_id`; none for the staff trail (sign-ins). */
function tenantCell(entry) {
  const t = entry.tenant && typeof entry.tenant === 'object' ? entry.tenant : null;
  const id = t?.id ?? (typeof entry.tenant_id === 'string' ? entry.tenant_id : null);
  if (!id) return h('span', { class: 'muted' }, 'Staff trail');
  const name = typeof t?.name === 'string' ? t.name : tenantName(id);
  return h('a', { class: 'tenant-link', href: routeHash('tenant', { id }), title: name }, name);
}

function describe() {
  byId('audit-caption').textContent = tenant
    ? `Audit trail of ${tenantName(tenant)}, newest first`
    : 'Audit trail of every tenant and of staff sign-ins, newest first';
}

function enter(params) {
  const next = typeof params.tenant === 'string' ? params.tenant : '';
  tenant = next;
  byId('audit-tenant').value = next;
  knownTenants().then(() => {
    byId('audit-tenant').value = tenant;
    describe();
  });
  describe();
  list.restart();
}

/** Wires the view, its tenant filter and its list. */
export function initAuditView() {
  list = auditList({
    prefix: 'audit',
    fetchPage: ({ limit, before }) => listAudit({ tenant, limit, before }),
    row: { labels: { staff: 'Staff', user: 'User', anonymous: 'Anonymous' }, tenant: tenantCell },
    isActive: () => state.signedIn,
  });
  onEnter('audit', enter);
  onSignOut(() => {
    tenant = '';
    byId('audit-tenant').value = '';
    list.reset();
  });
  bindTenantPicker(byId('audit-tenant'), () => tenant);
  byId('audit-tenant').addEventListener('change', (event) => {
    tenant = event.currentTarget.value;
    replaceRoute('audit', { tenant });
    describe();
    list.restart();
  });
}

/** Draws the rows again (times switched to UTC or back). */
export function rerenderAuditView() {
  list.render();
}
