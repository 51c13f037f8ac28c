// @ts-check
/** The app's shell: the service worker, the header, and a router over `location.pathname`. */

import { accessToken, can, currentUser, onSession, resume, signOut } from "./api.js";
import { alertBox, announce, fill, h } from "./dom.js";
import { NAVIGATED, go } from "./router.js";

/** @typedef {{path: string, load: () => Promise<import("./router.js").Page>, open?: boolean}} Route */

/** @type {Route[]} Every path here is also in the server's list (`routes::app::APP_PATHS`). */
const ROUTES = [
  { path: "/", load: () => import("./pages/grid.js") },
  { path: "/login", load: () => import("./pages/auth.js"), open: true },
  { path: "/signup", load: () => import("./pages/auth.js"), open: true },
  { path: "/upload", load: () => import("./pages/upload.js") },
  { path: "/images/:id", load: () => import("./pages/image.js") },
  { path: "/galleries", load: () => import("./pages/galleries.js") },
  { path: "/galleries/:id", load: () => import("./pages/grid.js") },
  { path: "/moderation", load: () => import("./pages/moderation.js") },
  { path: "/account", load: () => import("./pages/account.js") },
  { path: "/admin", load: () => import("./pages/admin.js") },
  { path: "/admin/:section", load: () => import("./pages/admin.js") },
];

/**
 * The route for `pathname` and its parameters.
 * @param {string} pathname
 * @returns {[Route, Record<string, string>] | null}
 */
function match(pathname) {
  const parts = pathname.split("/").filter(Boolean);
  for (const route of ROUTES) {
    const pattern = route.path.split("/").filter(Boolean);
    if (pattern.length !== parts.length) continue;
    /** @type {Record<string, string>} */
    const params = {};
    if (
      pattern.every((p, i) =>
        p.startsWith(":") ? ((params[p.slice(1)] = decodeURIComponent(parts[i])), true) : p === parts[i],
      )
    ) {
      return [route, params];
    }
  }
  return null;
}

let showing = 0;
async function show() {
  const main = /** @type {HTMLElement} */ (document.getElementById("main"));
  const turn = ++showing;
  const found = match(location.pathname);
  if (!found) {
    fill(main, h("h1", { tabIndex: -1 }, "Not found"), h("p", null, h("a", { href: "/" }, "Back to the gallery")));
    main.removeAttribute("aria-busy");
    return;
  }
  const [route, params] = found;
  if (!route.open && !currentUser()) {
    go(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    return;
  }
  header();
  // Busy while the page loads its data: assistive technology waits, and so can tests.
  main.setAttribute("aria-busy", "true");
  try {
    const page = await route.load();
    if (turn !== showing) return;
    main.replaceChildren();
    await page.render(main, params, new URLSearchParams(location.search));
  } catch (error) {
    if (turn === showing) fill(main, h("h1", { tabIndex: -1 }, "Something went wrong"), alertBox(error));
  }
  if (turn !== showing) return;
  main.removeAttribute("aria-busy");
  // Focus moves to the new page's heading, unless the user already went somewhere in it.
  if (!main.contains(document.activeElement) || document.activeElement === main) main.querySelector("h1")?.focus();
}

/** The header: what the user may use, and who they are. */
function header() {
  const top = /** @type {HTMLElement} */ (document.getElementById("top"));
  const user = currentUser();
  /** @param {string} href @param {string} text */
  const link = (href, text) => {
    const here = href === "/" ? location.pathname === "/" : location.pathname.startsWith(href);
    return h("li", null, h("a", { href, "aria-current": here ? "page" : null }, text));
  };
  const admin = can("users:manage") || can("roles:manage") || can("plans:manage");
  fill(
    top,
    h("a", { class: "brand", href: "/" }, "Gallery"),
    user
      ? h(
          "nav",
          { "aria-label": "Main" },
          h(
            "ul",
            null,
            can("images:read") && link("/", "Images"),
            can("images:read") && link("/galleries", "Galleries"),
            can("images:upload") && link("/upload", "Upload"),
            can("images:moderate") && link("/moderation", "Moderation"),
            admin && link("/admin", "Admin"),
            link("/account", user.username),
            h("li", null, h("button", { type: "button", class: "link", onclick: () => void leave() }, "Sign out")),
          ),
        )
      : h("nav", { "aria-label": "Main" }, h("ul", null, link("/login", "Sign in"), link("/signup", "Sign up"))),
  );
}

async function leave() {
  await signOut().catch(() => undefined);
  announce("Signed out");
  go("/login");
}

/**
 * Lets the service worker add the access token to the page's image requests, and makes
 * sure it is in charge before any image is shown.
 */
async function worker() {
  if (!("serviceWorker" in navigator)) return;
  const workers = navigator.serviceWorker;
  workers.addEventListener("message", (event) => {
    if (event.data === "token?") event.ports[0]?.postMessage(accessToken());
  });
  workers.startMessages();
  const registration = await workers.register("/sw.js", { scope: "/" });
  await workers.ready;
  if (workers.controller) return;
  const taken = new Promise((resolve) => workers.addEventListener("controllerchange", resolve, { once: true }));
  registration.active?.postMessage("claim");
  await taken;
}

// Links inside the app change the page without reloading it.
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target.closest("a") : null;
  if (
    !target ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  )
    return;
  const url = new URL(target.href, location.href);
  if (url.origin !== location.origin || target.hasAttribute("download") || target.target || !match(url.pathname))
    return;
  event.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener("popstate", () => void show());
window.addEventListener(NAVIGATED, () => void show());
onSession(() => header());

await Promise.all([worker(), resume().catch(() => null)]);
await show();
