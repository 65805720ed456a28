// The console's calls to the server: the staff admin API of docs/http-api.md over the shared
// HTTP client (http.js). The staff token lives in sessionStorage under the console's own key,
// apart from any partner session of the same browser.

import { createClient, queryString, send } from './http.js';

const client = createClient('idunox.admin.session');
const { request } = client;
const path = (...parts) => parts.map((p) => encodeURIComponent(p)).join('/');

/** The staff session of this tab: token, its expiry (ms since epoch), the staff member. */
export const session = client.session;

/** Registers what to do when an authenticated call answers 401 (see http.js). */
export const setReauthenticator = client.setReauthenticator;

/** GET /v1/partner/config (public): the environment and the scope catalogue. */
export function getConfig() {
  return request('GET', '/v1/partner/config');
}

/** POST /v1/admin/auth/login with email, password and a TOTP code. */
export function login(email, password, totp) {
  return request('POST', '/v1/admin/auth/login', { body: { email, password, totp } });
}

/** POST /v1/admin/auth/logout with a given token: the server refuses that token from then on. */
export function logout(token) {
  return send('POST', '/v1/admin/auth/logout', undefined, token);
}

/** GET /v1/admin/tenants: a page of tenants (`cursor`: a `next_cursor`, or null for the first). */
export function listTenants(cursor = null) {
  return request('GET', `/v1/admin/tenants${queryString({ cursor })}`, { auth: true });
}

/** POST /v1/admin/tenants. */
export function createTenant(name) {
  return request('POST', '/v1/admin/tenants', { auth: true, body: { name } });
}

/** GET /v1/admin/tenants/<tid>: the tenant and its users. */
export function getTenant(id) {
  return request('GET', `/v1/admin/tenants/${path(id)}`, { auth: true });
}

/** POST /v1/admin/tenants/<tid>/users: a user and its one-time password. */
export function provisionUser(tenantId, email) {
  return request('POST', `/v1/admin/tenants/${path(tenantId)}/users`, { auth: true, body: { email } });
}

/** POST /v1/admin/tenants/<tid>/revoke-all. */
export function revokeAll(tenantId) {
  return request('POST', `/v1/admin/tenants/${path(tenantId)}/revoke-all`, { auth: true });
}

/** POST /v1/admin/users/<uid>/<action>, `action` one of reset-password, disable, enable, unlock. */
export function userAction(userId, action) {
  return request('POST', `/v1/admin/users/${path(userId, action)}`, { auth: true });
}

/** GET /v1/admin/credentials with `tenant`, `q`, `status`, `limit`, `cursor` (empty ones left out). */
export function listCredentials({ tenant, q, status, limit, cursor } = {}) {
  return request('GET', `/v1/admin/credentials${queryString({ tenant, q, status, limit, cursor })}`, { auth: true });
}

/** PATCH /v1/admin/credentials/<id>. */
export function updateCredential(id, changes) {
  return request('PATCH', `/v1/admin/credentials/${path(id)}`, { auth: true, body: changes });
}

/** POST /v1/admin/credentials/<id>/revoke. */
export function revokeCredential(id) {
  return request('POST', `/v1/admin/credentials/${path(id)}/revoke`, { auth: true });
}

/** GET /v1/admin/audit with `tenant`, `limit`, `before`. */
export function listAudit({ tenant, limit, before } = {}) {
  return request('GET', `/v1/admin/audit${queryString({ tenant, limit, before })}`, { auth: true });
}
