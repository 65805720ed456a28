// The portal's calls to the server: the partner API of docs/http-api.md, over the shared HTTP
// client (http.js). The session token lives in sessionStorage under this page's own key.

import { createClient, queryString, send } from './http.js';

export { ApiError, messageOf } from './http.js';

const client = createClient('idunox.portal.session');
const { request } = client;

/** The session of this tab: token, its expiry (ms since epoch), user and tenant. */
export const session = client.session;

/** Registers what to do when an authenticated call answers 401 (see http.js). */
export const setReauthenticator = client.setReauthenticator;

/** GET /v1/partner/config (public). */
export function getConfig() {
  return request('GET', '/v1/partner/config');
}

/** POST /v1/partner/auth/login. */
export function login(email, password) {
  return request('POST', '/v1/partner/auth/login', { body: { email, password } });
}

/** POST /v1/partner/auth/logout with a given token: the server refuses that token from then on. */
export function logout(token) {
  return send('POST', '/v1/partner/auth/logout', undefined, token);
}

/** GET /v1/partner/me. */
export function me() {
  return request('GET', '/v1/partner/me', { auth: true });
}

/** POST /v1/partner/me/password. */
export function changePassword(currentPassword, newPassword) {
  return request('POST', '/v1/partner/me/password', {
    auth: true,
    body: { current_password: currentPassword, new_password: newPassword },
  });
}

/**
 * GET /v1/partner/credentials with the list query: `status` (array), `q`, `sort`, `limit`,
 * `cursor`. Parameters left empty are not sent.
 */
export function listCredentials(query = {}) {
  const { status, q, sort, limit, cursor } = query;
  return request('GET', `/v1/partner/credentials${queryString({ status, q, sort, limit, cursor })}`, { auth: true });
}

/**
 * POST /v1/partner/credentials. `scopes`, `allowedIps`: lists, or null for an unrestricted key
 * (then not sent).
 */
export function createCredential(name, validityDays, { scopes = null, allowedIps = null } = {}) {
  const body = { validity_days: validityDays };
  if (name) body.name = name;
  if (scopes) body.scopes = scopes;
  if (allowedIps) body.allowed_ips = allowedIps;
  return request('POST', '/v1/partner/credentials', { auth: true, body });
}

/** PATCH /v1/partner/credentials/<id>. */
export function updateCredential(id, changes) {
  return request('PATCH', `/v1/partner/credentials/${encodeURIComponent(id)}`, { auth: true, body: changes });
}

/**
 * POST /v1/partner/credentials/<id>/rotate: the overlap, and the new key's validity in days
 * (`null`: the server's default, `validity_days` left out).
 */
export function rotateCredential(id, graceHours, validityDays = null) {
  const body = { grace_hours: graceHours };
  if (validityDays !== null) body.validity_days = validityDays;
  return request('POST', `/v1/partner/credentials/${encodeURIComponent(id)}/rotate`, { auth: true, body });
}

/** POST /v1/partner/credentials/<id>/revoke. */
export function revokeCredential(id) {
  return request('POST', `/v1/partner/credentials/${encodeURIComponent(id)}/revoke`, { auth: true });
}

/** GET /v1/partner/audit: one page of this tenant's trail, newest first (`limit`, `before`). */
export function listAudit({ limit, before } = {}) {
  return request('GET', `/v1/partner/audit${queryString({ limit, before })}`, { auth: true });
}
