// @ts-check
/**
 * Gallery's service worker. It does one thing: images are protected by the API, and an
 * `<img>` cannot send a token, so the worker adds the page's access token to the page's
 * own image requests (`/api/v1/images/...`). The token stays in the page's memory; the
 * worker asks for it per request and keeps nothing. Everything else passes untouched.
 */
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const IMAGES = "/api/v1/images/";

sw.addEventListener("install", () => sw.skipWaiting());
sw.addEventListener("activate", (event) => event.waitUntil(sw.clients.claim()));
// A page loaded without a worker in charge (a hard reload) asks to be taken over.
sw.addEventListener("message", (event) => {
  if (event.data === "claim") event.waitUntil(sw.clients.claim());
});

sw.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (
    request.method !== "GET" ||
    url.origin !== sw.location.origin ||
    !url.pathname.startsWith(IMAGES) ||
    request.headers.has("authorization")
  ) {
    return;
  }
  event.respondWith(withToken(request, event.clientId));
});

/**
 * @param {Request} request
 * @param {string} clientId
 */
async function withToken(request, clientId) {
  const token = await tokenOf(clientId);
  const headers = new Headers(request.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return fetch(request.url, { headers, credentials: "omit", signal: request.signal });
}

/**
 * The access token of the page that made the request, or null.
 * @param {string} clientId
 * @returns {Promise<string | null>}
 */
async function tokenOf(clientId) {
  const client = clientId ? await sw.clients.get(clientId) : undefined;
  if (!client) return null;
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(typeof event.data === "string" ? event.data : null);
    client.postMessage("token?", [channel.port2]);
    setTimeout(() => resolve(null), 3000);
  });
}
