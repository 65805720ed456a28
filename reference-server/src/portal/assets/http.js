// The one way to the server for the pages of this origin (the partner portal and the staff
// console): JSON over fetch, errors as `ApiError`, a session token kept in sessionStorage (this
// tab only, gone when it closes) — never in a cookie or a URL, and sent only as
// `Authorization: Bearer` to this origin.
//
// An authenticated call that answers 401 does not end anything by itself: it asks the page's
// re-authentication handler for a new token and, once the person has signed in again, sends the
// same request once more. A 401 means the server did nothing, so repeating the call is safe; the
// page, its forms and any open one-time dialog stay as they were.

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

/** The session of this tab under `storageKey`: `{token, expiresAt, …}` or null. */
function sessionStore(storageKey) {
  return {
    get() {
      try {
        const raw = sessionStorage.getItem(storageKey);
        if (!raw) return null;
        const value = JSON.parse(raw);
        return value && typeof value.token === 'string' ? value : null;
      } catch {
        return null;
      }
    },
    set(value) {
      sessionStorage.setItem(storageKey, JSON.stringify(value));
    },
    clear() {
      sessionStorage.removeItem(storageKey);
    },
  };
}

function parseRetryAfter(value) {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const when = Date.parse(trimmed);
  return Number.isNaN(when) ? null : Math.max(0, Math.round((when - Date.now()) / 1000));
}

const SESSION_ENDED = 'Your session has ended. Please sign in again.';

/** Calls on their way to the server: `<html data-requests>` says how many (0 when idle). */
let inFlight = 0;

function countRequests(delta) {
  inFlight += delta;
  document.documentElement.dataset.requests = String(inFlight);
}

/** One HTTP exchange with an optional bearer token; resolves the parsed JSON body (or null). */
export async function send(method, path, body, token) {
  countRequests(1);
  try {
    return await exchange(method, path, body, token);
  } finally {
    countRequests(-1);
  }
}

async function exchange(method, path, body, token) {
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
 * A client whose session lives in sessionStorage under `storageKey`:
 * `{session, request, setReauthenticator}`.
 *
 * `request(method, path, {body, auth, reauth})`: one API call. `auth`: send the session token;
 * on 401, ask for a new sign-in and repeat the call (at most twice), unless `reauth` is false.
 * `setReauthenticator(handler)`: what to do on such a 401; the handler resolves `true` once the
 * person signed in again, `false` when the session is over.
 */
export function createClient(storageKey) {
  const session = sessionStore(storageKey);
  let reauthenticate = async () => false;

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

  return {
    session,
    request,
    setReauthenticator(handler) {
      reauthenticate = handler;
    },
  };
}

/** A query string from `params` (entries that are empty, null or undefined are left out). */
export function queryString(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    const text = Array.isArray(value) ? value.join(',') : value;
    if (text === null || text === undefined || text === '') continue;
    search.set(name, String(text));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
