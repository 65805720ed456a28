// The portal's only way to the server: the public JSON API of docs/http-api.md.
// The session token lives in sessionStorage (this tab only, gone when it closes); it is never
// put in a cookie or a URL, and is sent only as `Authorization: Bearer` to this origin.
//
// An authenticated call that answers 401 does not end anything by itself: it asks the
// re-authentication handler (session.js) for a new token and, once the person has signed in
// again, sends the same request once more. A 401 means the server did nothing, so repeating
// the call is safe; the page, its forms and any open key dialog stay as they were.

const SESSION_KEY = 'idunox.portal.session';

/** An answer other than 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(status, code, message, retryAfterSeconds = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The sentence to show for a failed call. */
export function messageOf(error) {
  return error instanceof ApiError ? error.message : 'Something went wrong. Please try again.';
}

/** The session of this tab: token, its expiry (ms since epoch), user and tenant. */
export const session = {
  get() {
    try {
      const raw = sessionStorage.getItem(SESSION_KEY);
      if (!raw) return null;
      const value = JSON.parse(raw);
      return value && typeof value.token === 'string' ? value : null;
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
};

/** Resolves `true` once the person signed in again, `false` when the session is over. */
let reauthenticate = async () => false;

/** Registers what to do when an authenticated call answers 401 (see the file comment). */
export function setReauthenticator(handler) {
  reauthenticate = handler;
}

function parseRetryAfter(value) {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const when = Date.parse(trimmed);
  return Number.isNaN(when) ? null : Math.max(0, Math.round((when - Date.now()) / 1000));
}

const SESSION_ENDED = 'Your session has ended. Please sign in again.';

async function send(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The server could not be reached. Check your connection and try again.');
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(
      response.status,
      typeof err.code === 'string' ? err.code : 'http_' + response.status,
      typeof err.message === 'string' ? err.message : `The server answered ${response.status}.`,
      parseRetryAfter(response.headers.get('Retry-After')),
    );
  }
  return data;
}

/**
 * One API call. `auth`: send the session token; on 401, ask for a new sign-in and repeat the
 * call (at most twice), unless `reauth` is false (sign-out, which must never ask).
 */
async function request(method, path, { body, auth = false, reauth = true } = {}) {
  if (!auth) return send(method, path, body, null);
  for (let attempt = 0; ; attempt += 1) {
    const current = session.get();
    if (!current) {
      if (reauth && attempt < 2 && (await reauthenticate())) continue;
      throw new ApiError(401, 'unauthorized', SESSION_ENDED);
    }
    try {
      return await send(method, path, body, current.token);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || !reauth || attempt >= 2) throw error;
      // Another call may already have signed in again while this one was on its way.
      const now = session.get();
      if (now && now.token !== current.token) continue;
      if (!(await reauthenticate())) throw new ApiError(401, 'unauthorized', SESSION_ENDED);
    }
  }
}

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
  const params = new URLSearchParams();
  if (Array.isArray(query.status) && query.status.length) params.set('status', query.status.join(','));
  if (query.q) params.set('q', query.q);
  if (query.sort) params.set('sort', query.sort);
  if (query.limit) params.set('limit', String(query.limit));
  if (query.cursor) params.set('cursor', query.cursor);
  const search = params.toString();
  return request('GET', `/v1/partner/credentials${search ? `?${search}` : ''}`, { auth: true });
}

/** POST /v1/partner/credentials. */
export function createCredential(name, validityDays) {
  const body = { validity_days: validityDays };
  if (name) body.name = name;
  return request('POST', '/v1/partner/credentials', { auth: true, body });
}

/** PATCH /v1/partner/credentials/<id>. */
export function updateCredential(id, changes) {
  return request('PATCH', `/v1/partner/credentials/${encodeURIComponent(id)}`, { auth: true, body: changes });
}

/** POST /v1/partner/credentials/<id>/rotate. */
export function rotateCredential(id, graceHours) {
  return request('POST', `/v1/partner/credentials/${encodeURIComponent(id)}/rotate`, {
    auth: true,
    body: { grace_hours: graceHours },
  });
}

/** POST /v1/partner/credentials/<id>/revoke. */
export function revokeCredential(id) {
  return request('POST', `/v1/partner/credentials/${encodeURIComponent(id)}/revoke`, { auth: true });
}
