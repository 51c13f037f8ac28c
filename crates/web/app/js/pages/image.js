// @ts-check
/** One image: the picture, its details, editing, download, moderation and share links. */

import { blob, call, can, currentUser } from "../api.js";
import { announce, button, bytes, choice, duration, field, fill, h, heading, submitting, when } from "../dom.js";
import { badge, picture, plans, showDecisions } from "../images.js";
import { go } from "../router.js";

/** Expiry choices offered for a share link, clipped to the plan's bounds. */
const EXPIRIES = [300, 3600, 6 * 3600, 86400, 7 * 86400];

/** @type {import("../router.js").Page["render"]} */
export async function render(main, params) {
  /** @type {import("../images.js").Image} */
  const image = await call("GET", `/images/${encodeURIComponent(params.id)}`);
  const user = /** @type {import("../api.js").User} */ (currentUser());
  const shown = Math.min(image.height, 640);
  const details = h("dl", { class: "details" });
  const describe = () =>
    fill(
      details,
      h("dt", null, "Status"),
      h("dd", null, badge(image.status)),
      h("dt", null, "Uploaded by"),
      h("dd", null, image.uploaded_by.username),
      image.taken_at && [h("dt", null, "Taken"), h("dd", null, when(image.taken_at))],
      image.camera && [h("dt", null, "Camera"), h("dd", null, cameraName(image.camera))],
      h("dt", null, "Uploaded"),
      h("dd", null, when(image.uploaded_at)),
      h("dt", null, "Size"),
      h("dd", null, `${image.width} × ${image.height} px, ${image.format.toUpperCase()}, ${bytes(image.size_bytes)}`),
      image.description && [h("dt", null, "Description"), h("dd", { class: "prose" }, image.description)],
    );
  describe();
  const title = heading(image.title || "Untitled image");
  const aside = h("div", { class: "side" }, details);
  main.append(
    title,
    h(
      "div",
      { class: "image-page" },
      h("figure", { class: "full" }, picture(image, shown, { original: true, eager: true })),
      aside,
    ),
  );

  if (image.links.original) {
    aside.append(
      h(
        "p",
        null,
        button("Download original", {}, () => download(image)),
      ),
    );
  }
  if (can("images:update"))
    aside.append(
      editor(image, (updated) => {
        Object.assign(image, updated);
        fill(title, image.title || "Untitled image");
        describe();
      }),
    );
  if (can("images:moderate")) aside.append(await moderation(image, describe));
  if (can("links:create")) aside.append(await sharing(image, user.plan));
  if (can("images:delete")) {
    aside.append(
      h(
        "section",
        { class: "danger", "aria-labelledby": "delete-title" },
        h("h2", { id: "delete-title" }, "Delete"),
        button("Delete this image", { class: "danger" }, () => remove(image)),
      ),
    );
  }
}

/** @param {import("../images.js").Image} image */
async function download(image) {
  const url = URL.createObjectURL(await blob(/** @type {string} */ (image.links.original)));
  const a = h("a", {
    href: url,
    download: `${image.title || image.id}.${image.format === "jpeg" ? "jpg" : image.format}`,
  });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * @param {import("../images.js").Image} image
 * @param {(image: import("../images.js").Image) => void} saved
 */
function editor(image, saved) {
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "edit-title" },
    h("h2", { id: "edit-title" }, "Edit"),
    field("Title", { name: "title", value: image.title, maxLength: 200 }),
    field("Description", { name: "description", value: image.description, rows: 4, maxLength: 2000 }),
    h("button", { type: "submit" }, "Save"),
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    const data = new FormData(form);
    void submitting(form, async () => {
      saved(
        await call("PATCH", `/images/${image.id}`, { title: data.get("title"), description: data.get("description") }),
      );
      announce("Saved");
    });
  };
  return form;
}

/**
 * Approve or reject, and the decisions so far.
 * @param {import("../images.js").Image} image
 * @param {() => void} changed
 */
async function moderation(image, changed) {
  const decisions = h("ol", { class: "history" });
  const refresh = () => showDecisions(decisions, image.id);
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "moderate-title" },
    h("h2", { id: "moderate-title" }, "Moderation"),
    field("Reason (needed to reject)", { name: "reason", maxLength: 500 }),
    h(
      "div",
      { class: "row" },
      h("button", { type: "submit", value: "approved", class: "primary" }, "Approve"),
      h("button", { type: "submit", value: "rejected" }, "Reject"),
    ),
    h("h3", null, "History"),
    decisions,
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    const decision = /** @type {HTMLButtonElement | null} */ (event.submitter)?.value ?? "approved";
    const reason = String(new FormData(form).get("reason") ?? "").trim();
    void submitting(form, async () => {
      Object.assign(
        image,
        await call("POST", `/images/${image.id}/approval`, reason ? { decision, reason } : { decision }),
      );
      changed();
      await refresh();
      announce(`Image ${decision}`);
    });
  };
  await refresh();
  return form;
}

/**
 * Share links: create one within the plan's bounds, copy it, and revoke live ones.
 * @param {import("../images.js").Image} image
 * @param {string} code the caller's plan
 */
async function sharing(image, code) {
  const section = h(
    "section",
    { class: "card", "aria-labelledby": "share-title" },
    h("h2", { id: "share-title" }, "Share links"),
  );
  const { mine } = await plans(code);
  const features = mine?.features;
  if (features && !features.expiring_links) {
    section.append(
      h("p", { class: "muted" }, "Your plan does not include share links. ", h("a", { href: "/account" }, "See plans")),
    );
    return section;
  }
  if (image.status !== "approved") {
    section.append(h("p", { class: "muted" }, "Only approved images can be shared."));
    return section;
  }
  const min = features?.link_ttl_min ?? 300;
  const max = features?.link_ttl_max ?? 86400;
  const expiries = [...new Set([min, ...EXPIRIES.filter((s) => s > min && s < max), max])];
  const variants = /** @type {[string, string][]} */ ([
    ...(image.links.original ? [["original", "Original"]] : []),
    ...Object.keys(image.links.thumbnails).map((h) => [`thumbnail:${h}`, `Thumbnail, ${h} px high`]),
  ]);
  const result = h("div", { "aria-live": "polite" });
  const live = h("ul", { class: "links" });
  const form = h(
    "form",
    { class: "row" },
    choice(
      "Expires after",
      { name: "expires_in", value: String(expiries[Math.min(1, expiries.length - 1)]) },
      expiries.map((s) => [String(s), duration(s)]),
    ),
    choice("Variant", { name: "variant" }, variants),
    h("button", { type: "submit", class: "primary" }, "Create link"),
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    const data = new FormData(form);
    void submitting(form, async () => {
      const link = await call("POST", `/images/${image.id}/links`, {
        expires_in: Number(data.get("expires_in")),
        variant: data.get("variant"),
      });
      const input = h("input", { value: link.url, readOnly: true, "aria-label": "Share link", class: "url" });
      const copy = h("button", { type: "button" }, "Copy");
      copy.onclick = async () => {
        input.select();
        await navigator.clipboard?.writeText(link.url).catch(() => undefined);
        announce("Link copied");
      };
      fill(
        result,
        h("div", { class: "row copy" }, input, copy),
        h("p", { class: "muted" }, `Expires ${when(link.expires_at)}`),
      );
      await listLinks();
    });
  };
  const listLinks = async () => {
    /** @type {{id: string, variant: string, expires_at: string}[]} */
    const links = await call("GET", `/images/${image.id}/links`);
    fill(
      live,
      links.length
        ? links.map((link) =>
            h(
              "li",
              null,
              `${link.variant}, until ${when(link.expires_at)} `,
              button("Revoke", { class: "link" }, async () => {
                await call("DELETE", `/links/${link.id}`);
                announce("Link revoked");
                await listLinks();
              }),
            ),
          )
        : h("li", { class: "muted" }, "No live links."),
    );
  };
  await listLinks();
  section.append(form, result, h("h3", null, "Live links"), live);
  return section;
}

/** @param {import("../images.js").Image} image */
async function remove(image) {
  if (!confirm(`Delete “${image.title || "this image"}”? This cannot be undone.`)) return;
  await call("DELETE", `/images/${image.id}`);
  announce("Image deleted");
  go("/");
}

/**
 * A camera as people say it: the model alone when it already names the make ("Canon EOS R5").
 * @param {{make: string | null, model: string | null}} camera
 */
function cameraName({ make, model }) {
  if (make && model?.toLowerCase().startsWith(make.toLowerCase())) return model;
  return [make, model].filter(Boolean).join(" ");
}
