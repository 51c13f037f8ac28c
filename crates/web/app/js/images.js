// @ts-check
/** How an image is shown: a thumbnail `srcset` from the heights the caller's plan gives. */

import { call, limits, withQuery } from "./api.js";
import { fill, h, when } from "./dom.js";

/**
 * @typedef {{id: string, title: string, description: string, status: string,
 *   uploaded_by: {id: string, username: string}, gallery_id: string | null, width: number,
 *   height: number, format: string, size_bytes: number, sha256: string, uploaded_at: string,
 *   updated_at: string, taken_at: string | null, camera: {make: string | null, model: string | null} | null,
 *   links: {original: string | null, thumbnails: Record<string, string>}}} Image
 */

/**
 * An `<img>` showing `image` at `shown` CSS pixels high: the browser picks from every
 * thumbnail the plan allows (and the original, when `original` is set), by pixel density.
 * @param {Image} image
 * @param {number} shown
 * @param {{original?: boolean, eager?: boolean, phone?: number, alt?: string}} [options] `phone`:
 *   the height shown on narrow screens (the stylesheet's breakpoint), when it differs; `alt`:
 *   empty where a caption next to the image already names it
 */
export function picture(
  image,
  shown,
  { original = false, eager = false, phone = shown, alt = image.title || "Untitled image" } = {},
) {
  const ratio = image.width / image.height;
  const candidates = Object.entries(image.links.thumbnails)
    .map(([height, url]) => [Math.min(Number(height), image.height), url])
    .sort((a, b) => Number(a[0]) - Number(b[0]));
  // No browser shows HEIC: its thumbnails stand in for the original.
  if (original && image.links.original && image.format !== "heic") {
    candidates.push([image.height, image.links.original]);
  }
  const srcset = candidates
    .map(([height, url]) => `${url} ${Math.max(1, Math.round(Number(height) * ratio))}w`)
    .join(", ");
  const width = Math.round(shown * ratio);
  return h("img", {
    src: candidates[0]?.[1] ?? "",
    srcset,
    sizes: phone === shown ? `${width}px` : `(max-width: 720px) ${Math.round(phone * ratio)}px, ${width}px`,
    width,
    height: shown,
    alt,
    loading: eager ? "eager" : "lazy",
    decoding: "async",
  });
}

/** @param {string} status */
export function badge(status) {
  return h("span", { class: `badge ${status}` }, status);
}

/**
 * @typedef {{thumbnail_heights: number[], original_access: boolean, expiring_links: boolean,
 *   link_ttl_min: number, link_ttl_max: number, max_upload_bytes: number,
 *   storage_quota_bytes: number}} Features
 * @typedef {{id: string, code: string, name: string, description: string, price_cents: number,
 *   currency: string, billing_period: string, is_public: boolean, is_default: boolean,
 *   features: Features}} Plan
 */

/**
 * The plans the caller may see, and the caller's own among them (if it is one of them).
 * @param {string} code the caller's plan
 * @returns {Promise<{plans: Plan[], mine: Plan | undefined}>}
 */
export async function plans(code) {
  /** @type {Plan[]} */
  const all = await call("GET", "/plans");
  return { plans: all, mine: all.find((p) => p.code === code) };
}

/**
 * The galleries as choices for a select: id and name (the first page, as large as the
 * server lists at once).
 * @returns {Promise<[string, string][]>}
 */
export async function galleryChoices() {
  /** @type {{id: string, name: string}[]} */
  const galleries = (await call("GET", withQuery("/galleries", { per_page: (await limits()).max_per_page }))).items;
  return galleries.map((g) => [g.id, g.name]);
}

/**
 * Fills `list` with the image's decisions so far, oldest first (`GET /images/{id}/approvals`).
 * @param {HTMLElement} list
 * @param {string} id
 */
export async function showDecisions(list, id) {
  /** @type {{decision: string, reason: string | null, decided_by: {username: string} | null, decided_at: string}[]} */
  const decisions = await call("GET", `/images/${id}/approvals`);
  fill(
    list,
    decisions.length
      ? decisions.map((d) =>
          h(
            "li",
            null,
            badge(d.decision),
            ` by ${d.decided_by?.username ?? "a removed user"}, ${when(d.decided_at)}`,
            d.reason && ` — ${d.reason}`,
          ),
        )
      : h("li", { class: "muted" }, "No decision yet."),
  );
}
