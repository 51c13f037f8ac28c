// @ts-check
/**
 * Navigation inside the app, kept apart from the shell (`main.js`) so that pages can
 * navigate without importing the module that loads them.
 *
 * @typedef {{render: (main: HTMLElement, params: Record<string, string>, query: URLSearchParams) => Promise<void>}} Page
 */

/** The event `main.js` shows the current address on. */
export const NAVIGATED = "gallery:navigated";

/**
 * Goes to `url` inside the app (no page load).
 * @param {string} url
 * @param {{replace?: boolean}} [options]
 */
export function go(url, { replace = false } = {}) {
  history[replace ? "replaceState" : "pushState"](null, "", url);
  window.dispatchEvent(new Event(NAVIGATED));
}
