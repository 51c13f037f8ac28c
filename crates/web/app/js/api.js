// @ts-check
/**
 * The public API, as the app calls it. The access token lives in this module's memory
 * only; the refresh token is an HttpOnly cookie the page never sees (`refresh_cookie` at
 * login), so a reload signs the user back in and no script can steal it.
 */

export const API = "/api/v1";

/**
 * @typedef {{id: string, username: string, email: string | null, role: string,
 *   permissions: string[], plan: string, is_active: boolean, created_at: string}} User
 * @typedef {{access_token: string, expires_in: number, user?: User}} Tokens
 * @typedef {{field: string, message: string}} FieldProblem
 * @typedef {{max_uploads_per_user: number, default_per_page: number, max_per_page: number}} Limits
 */

/** A refused call: the API's problem+json answer (RFC 9457). */
export class Problem extends Error {
  /**
   * @param {number} status
   * @param {any} body the problem document, if the answer had one
   * @param {string | null} [retryAfter]
   */
  constructor(status, body, retryAfter = null) {
    super(
      body?.detail || body?.title || (status ? `The server answered ${status}` : "The server could not be reached"),
    );
    this.status = status;
    /** @type {string} */
    this.code = body?.code ?? "error";
    /** @type {FieldProblem[]} */
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
    /** Seconds to wait before trying again (429). */
    this.retryAfter = Number(retryAfter) || 0;
  }
}

/** @type {{token: string | null, user: User | null, timer: ReturnType<typeof setTimeout> | undefined}} */
const session = { token: null, user: null, timer: undefined };
/** @type {Set<(user: User | null) => void>} */
const listeners = new Set();

/** The signed-in user, or null. */
export const currentUser = () => session.user;
/** The access token, for the service worker. */
export const accessToken = () => session.token;
/** Whether the signed-in user holds `permission` (the server decides; this only hides what would be refused). */
export const can = (/** @type {string} */ permission) => session.user?.permissions.includes(permission) ?? false;
/** Calls `listener` whenever the user signs in, out, or changes. */
export const onSession = (/** @type {(user: User | null) => void} */ listener) => listeners.add(listener);

function changed() {
  for (const listener of listeners) listener(session.user);
}

/** @param {Tokens} tokens */
function adopt(tokens) {
  session.token = tokens.access_token;
  clearTimeout(session.timer);
  // Renew a little before expiry, so neither a call nor an image meets an expired token.
  session.timer = setTimeout(() => void resume(), Math.max(5, tokens.expires_in - 30) * 1000);
}

function forget() {
  session.token = null;
  session.user = null;
  clearTimeout(session.timer);
  hint(false);
}

/**
 * Whether this browser may hold a session cookie: set at sign-in, cleared at sign-out, so a
 * visitor who never signed in is not sent to `/auth/refresh` on every load. It says nothing
 * secret; the cookie itself stays out of reach.
 * @param {boolean} [on] sets the hint; absent, reads it
 */
function hint(on) {
  const key = "gallery.signed-in";
  try {
    if (on === undefined) return localStorage.getItem(key) === "1";
    if (on) localStorage.setItem(key, "1");
    else localStorage.removeItem(key);
  } catch {
    return true; // storage refused: ask the server
  }
  return on;
}

/**
 * Trades the refresh cookie for a new access token. A refresh token works once, so
 * tabs take turns (Web Locks): two tabs must never spend the same one.
 * @returns {Promise<Tokens>}
 */
async function renew() {
  const call = () => send("POST", "/auth/refresh", {});
  return navigator.locks ? await navigator.locks.request("gallery-refresh", call) : await call();
}

/**
 * Signs the user back in from the refresh cookie, if it still works.
 * @returns {Promise<User | null>}
 */
export async function resume() {
  if (!hint()) {
    changed();
    return null;
  }
  try {
    adopt(await renew());
    session.user = await send("GET", "/users/me");
  } catch (error) {
    if (!(error instanceof Problem) || error.status === 0) throw error;
    forget();
  }
  changed();
  return session.user;
}

/** Reloads the signed-in user (after a change of plan, email, ...). */
export async function reloadUser() {
  session.user = await call("GET", "/users/me");
  changed();
}

/**
 * @param {string} username
 * @param {string} password
 */
export async function signIn(username, password) {
  const tokens = await send("POST", "/auth/login", { username, password, refresh_cookie: true });
  adopt(tokens);
  hint(true);
  session.user = tokens.user ?? null;
  changed();
}

export async function signOut() {
  try {
    await send("POST", "/auth/logout");
  } finally {
    forget();
    changed();
  }
}

/**
 * One API call; an access token that expired meanwhile is renewed once.
 * @param {string} method
 * @param {string} path under `/api/v1`
 * @param {unknown} [body] sent as JSON
 * @returns {Promise<any>} the JSON answer (null for 204)
 */
export async function call(method, path, body) {
  try {
    return await send(method, path, body);
  } catch (error) {
    if (error instanceof Problem && error.code === "token_expired" && session.token) {
      await resume();
      return send(method, path, body);
    }
    // The role changed under the page: learn what it may still do, so that what it may
    // not is no longer offered.
    if (error instanceof Problem && error.code === "forbidden") void reloadUser().catch(() => undefined);
    throw error;
  }
}

/** @type {Promise<Limits> | null} */
let asked = null;

/**
 * What this server lets a client do at once (`GET /limits`), asked once per page load;
 * a failed ask is asked again next time.
 * @returns {Promise<Limits>}
 */
export function limits() {
  asked ??= send("GET", "/limits").catch((/** @type {unknown} */ error) => {
    asked = null;
    throw error;
  });
  return asked;
}

/**
 * `path` with the query `params` that have a value.
 * @param {string} path
 * @param {Record<string, string | number | boolean | null | undefined>} params
 */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
async function send(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new Problem(0, null);
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Problem(res.status, data, res.headers.get("retry-after"));
  return data;
}

/**
 * Uploads one image (`POST /images`), reporting progress from 0 to 1. XMLHttpRequest,
 * because `fetch` cannot report how much of a body has gone.
 * @param {FormData} form
 * @param {(done: number) => void} progress
 * @returns {Promise<any>} the new image
 */
export function upload(form, progress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API}/images`);
    xhr.setRequestHeader("authorization", `Bearer ${session.token}`);
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => event.lengthComputable && progress(event.loaded / event.total);
    xhr.onload = () =>
      xhr.status === 201
        ? resolve(xhr.response)
        : reject(new Problem(xhr.status, xhr.response, xhr.getResponseHeader("retry-after")));
    xhr.onerror = () => reject(new Problem(0, null));
    xhr.send(form);
  });
}

/**
 * The stored bytes at an image URL, fetched with the token (for a download).
 * @param {string} url
 */
export async function blob(url) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${session.token}` } });
  if (!res.ok) throw new Problem(res.status, await res.json().catch(() => null));
  return res.blob();
}
