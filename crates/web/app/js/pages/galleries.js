// @ts-check
/** Galleries: browse them, and (with `galleries:manage`) create, rename and delete them. */

import { call, can, limits, withQuery } from "../api.js";
import { announce, button, fill, field, h, heading, submitting } from "../dom.js";

/** @typedef {{id: string, name: string, description: string, created_at: string}} Gallery */

/** @type {import("../router.js").Page["render"]} */
export async function render(main) {
  const list = h("ul", { class: "cards", "aria-label": "Galleries" });
  const manage = can("galleries:manage");
  const refresh = async () => {
    /** @type {Gallery[]} */
    const galleries = (await call("GET", withQuery("/galleries", { per_page: (await limits()).max_per_page }))).items;
    fill(
      list,
      galleries.length
        ? galleries.map((g) => card(g, manage, refresh))
        : h("li", { class: "muted" }, "No galleries yet."),
    );
  };
  main.append(heading("Galleries"));
  if (manage) {
    const form = h(
      "form",
      { class: "card row", "aria-label": "New gallery" },
      field("Name", { name: "name", required: true, maxLength: 200 }),
      field("Description", { name: "description", maxLength: 2000 }),
      h("button", { type: "submit", class: "primary" }, "Create gallery"),
    );
    form.onsubmit = (event) => {
      event.preventDefault();
      void submitting(form, async () => {
        await call("POST", "/galleries", Object.fromEntries(new FormData(form)));
        form.reset();
        announce("Gallery created");
        await refresh();
      });
    };
    main.append(form);
  }
  main.append(list);
  await refresh();
}

/**
 * @param {Gallery} gallery
 * @param {boolean} manage
 * @param {() => Promise<void>} refresh
 */
function card(gallery, manage, refresh) {
  const item = h(
    "li",
    { class: "card" },
    h("h2", null, h("a", { href: `/galleries/${gallery.id}` }, gallery.name)),
    gallery.description && h("p", null, gallery.description),
  );
  if (!manage) return item;
  const form = h(
    "form",
    { class: "row", "aria-label": `Rename ${gallery.name}` },
    field("Name", { name: "name", value: gallery.name, required: true, maxLength: 200 }),
    field("Description", { name: "description", value: gallery.description, maxLength: 2000 }),
    h("button", { type: "submit" }, "Save"),
    button("Delete", { class: "danger" }, async () => {
      if (!confirm(`Delete the gallery “${gallery.name}”? Its images are kept.`)) return;
      await call("DELETE", `/galleries/${gallery.id}`);
      announce("Gallery deleted");
      await refresh();
    }),
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    void submitting(form, async () => {
      await call("PATCH", `/galleries/${gallery.id}`, Object.fromEntries(new FormData(form)));
      announce("Gallery saved");
      await refresh();
    });
  };
  item.append(h("details", null, h("summary", null, "Edit"), form));
  return item;
}
