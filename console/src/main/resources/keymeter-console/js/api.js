// The console's only way to the server: the public HTTP API under v1/, with the account token as a bearer token.
import { session } from './session.js';

/** An answer that is not 2xx, carrying the problem+json fields (RFC 9457) the API sends. */
export class ApiError extends Error {
  constructor(status, problem = {}) {
    super(problem.detail || problem.title || `The server answered ${status}.`);
    this.status = status;
    this.title = problem.title || (status ? `Error ${status}` : 'Network error');
    this.detail = problem.detail || '';
    // RFC 9457 extension member; some serializers nest extensions under "properties"
    const errors = problem.errors ?? problem.properties?.errors;
    this.errors = Array.isArray(errors) ? errors : [];
    this.retryAfter = 0;
  }

  static async from(response) {
    let problem = {};
    const type = response.headers.get('Content-Type') || '';
    if (type.includes('json')) {
      try {
        problem = await response.json();
      } catch {
        problem = {};
      }
    }
    if (response.status === 404 && !problem.detail) {
      problem.detail = 'Not found. It may have been deleted, or this server does not offer it.';
    }
    const error = new ApiError(response.status, problem);
    error.retryAfter = Number(response.headers.get('Retry-After')) || 0;
    return error;
  }
}

/** Since when calls have reached no server (null once any answers): how long a page waits to load again. */
let unreachedSince = null;

/**
 * Seconds to wait before loading a page again whose load failed for a reason that passes (no server reached, a
 * 503: Keymeter restarting, a rebalance): half as long as nothing has answered, from 2 s up to 30 s (a restart
 * takes about a minute), or the 503's Retry-After up to a minute; null for an error another try will not mend
 * (401, 404, a bad request).
 */
export function retryDelay(error) {
  if (error.status === 0) {
    const down = unreachedSince === null ? 0 : (Date.now() - unreachedSince) / 1000;
    return Math.min(Math.max(2, Math.round(down / 2)), 30);
  }
  if (error.status === 503) {
    return Math.min(Math.max(error.retryAfter, 2), 60);
  }
  return null;
}

/**
 * How long the console waits for an answer to start (a key change is confirmed within 25 s or answered 503); the
 * body, a large CSV say, may take longer.
 */
const TIMEOUT_MS = 40000;
/** A read answered 503 is tried once more after its Retry-After when that is this short (a rebalance, a restore). */
const RETRY_AFTER_MAX_S = 5;

async function send(method, path, body, token = session.token(), retried = false, accept = 'application/json',
  ifMatch = null) {
  const headers = { Accept: `${accept}, application/problem+json` };
  if (ifMatch) {
    headers['If-Match'] = ifMatch; // applied only while the credential is at the version the page acted on
  }
  if (token) {
    headers.Authorization = `Bearer ${token}`;
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  let response;
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, TIMEOUT_MS);
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      signal: abort.signal,
    });
  } catch {
    unreachedSince ??= Date.now();
    throw new ApiError(0, timedOut
      ? { title: 'Network error', detail: `The server did not answer within ${TIMEOUT_MS / 1000} s. Try again.` }
      : { title: 'Network error', detail: 'The server could not be reached. Check the connection and try again.' });
  } finally {
    clearTimeout(timer);
  }
  unreachedSince = null;
  const retryAfter = Number(response.headers.get('Retry-After'));
  if (response.status === 503 && method === 'GET' && !retried && retryAfter > 0 && retryAfter <= RETRY_AFTER_MAX_S) {
    await new Promise((resolve) => { setTimeout(resolve, retryAfter * 1000); });
    return send(method, path, body, token, true, accept, ifMatch);
  }
  if (!response.ok) {
    const error = await ApiError.from(response);
    if (response.status === 401 && token === session.token()) {
      window.dispatchEvent(new CustomEvent('keymeter:unauthorized', { detail: error }));
    }
    throw error;
  }
  return response;
}

/**
 * Calls the API and returns its JSON answer (null for 204). An answer's ETag (a credential's version) rides along as
 * the object's `etag`, not enumerable, so it is never sent back as a field; `ifMatch` makes a change conditional on
 * one: answered 412, nothing applied, once the credential has changed since.
 */
export async function api(method, path, body, { ifMatch = null } = {}) {
  const response = await send(method, path, body, session.token(), false, 'application/json', ifMatch);
  if (response.status === 204) {
    return null;
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  const etag = strongTag(response.headers.get('ETag'));
  if (etag && json && typeof json === 'object') {
    Object.defineProperty(json, 'etag', { value: etag, enumerable: false });
  }
  return json;
}

/**
 * Keymeter's tags are strong; a proxy that compresses an answer marks its tag weak (`W/"7"`), which If-Match never
 * matches, and every key action was refused 412. The version in it is still the credential's.
 */
function strongTag(tag) {
  return tag ? tag.replace(/^W\//, '') : tag;
}

/**
 * Checks a token before the console keeps it: resolves when the API accepts it, else throws the ApiError. Asks for one
 * credential: the whole list (megabytes for a large account) was read here only to be thrown away.
 */
export async function checkToken(token) {
  await send('GET', 'v1/credentials?limit=1', undefined, token);
}

/** Calls the API and returns the answer as a Blob (for downloads, which must carry the bearer token) of type {@code accept}. */
export async function apiBlob(path, accept) {
  const response = await send('GET', path, undefined, session.token(), false, accept);
  return response.blob();
}

/** Builds a query string from the defined, non-empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') {
      search.set(name, value);
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
