// The portal's only way to the server: the public JSON API of docs/http-api.md.
// The session token lives in sessionStorage (this tab only, gone when it closes); it is never
// put in a cookie or a URL, and is sent only as `Authorization: Bearer` to this origin.

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

let onUnauthorized = () => {};

/** Registers what to do when an authenticated call answers 401 (the session is over). */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function parseRetryAfter(value) {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const when = Date.parse(trimmed);
  return Number.isNaN(when) ? null : Math.max(0, Math.round((when - Date.now()) / 1000));
}

async function request(method, path, { body, auth = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth) {
    const current = session.get();
    if (!current) {
      onUnauthorized();
      throw new ApiError(401, 'unauthorized', 'Your session has ended. Please sign in again.');
    }
    headers.Authorization = `Bearer ${current.token}`;
  }

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
    const error = new ApiError(
      response.status,
      typeof err.code === 'string' ? err.code : 'http_' + response.status,
      typeof err.message === 'string' ? err.message : `The server answered ${response.status}.`,
      parseRetryAfter(response.headers.get('Retry-After')),
    );
    if (auth && response.status === 401) onUnauthorized();
    throw error;
  }
  return data;
}

/** GET /v1/partner/config (public). */
export function getConfig() {
  return request('GET', '/v1/partner/config');
}

/** POST /v1/partner/auth/login. */
export function login(email, password) {
  return request('POST', '/v1/partner/auth/login', { body: { email, password } });
}

/** GET /v1/partner/me. */
export function me() {
  return request('GET', '/v1/partner/me', { auth: true });
}

/** GET /v1/partner/credentials. */
export function listCredentials() {
  return request('GET', '/v1/partner/credentials', { auth: true });
}

/** POST /v1/partner/credentials. */
export function createCredential(name, validityDays) {
  const body = { validity_days: validityDays };
  if (name) body.name = name;
  return request('POST', '/v1/partner/credentials', { auth: true, body });
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
