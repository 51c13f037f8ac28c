// @ts-check
/** The image grid: the caller's visible images, filtered, sorted, and read by cursor as the user scrolls. */

import { Problem, call, can, limits, withQuery } from "../api.js";
import { alertBox, choice, field, fill, h, heading } from "../dom.js";
import { badge, galleryChoices, picture } from "../images.js";
import { go } from "../router.js";

/** The grid's row height in CSS pixels, as app.css sets it (`--row`): wide screens, then phones. */
const ROW = 200;
const PHONE_ROW = 120;

/** @type {import("../router.js").Page["render"]} */
export async function render(main, params, query) {
  const fixed = params.id;
  /** @type {{name: string} | null} A gallery's own page shows its images only. */
  const gallery = fixed
    ? await call("GET", `/galleries/${encodeURIComponent(fixed)}?per_page=1`).catch((error) => {
        if (error instanceof Problem && (error.status === 404 || error.status === 400)) return null;
        throw error;
      })
    : null;
  if (fixed && !gallery) {
    main.append(heading("Gallery not found"), h("p", null, h("a", { href: "/galleries" }, "All galleries")));
    return;
  }
  const galleries = fixed ? [] : await galleryChoices();
  const filters = {
    status: query.get("status") ?? "",
    gallery_id: fixed ?? query.get("gallery_id") ?? "",
    q: query.get("q") ?? "",
    sort: query.get("sort") ?? "-uploaded_at",
  };
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter images" },
    field("Search", { name: "q", type: "search", value: filters.q, placeholder: "Title or description" }),
    choice("Status", { name: "status", value: filters.status }, [
      ["", "Any"],
      ["approved", "Approved"],
      ["pending", "Pending"],
      ["rejected", "Rejected"],
    ]),
    !fixed && choice("Gallery", { name: "gallery_id", value: filters.gallery_id }, [["", "All"], ...galleries]),
    choice("Sort", { name: "sort", value: filters.sort }, [
      ["-uploaded_at", "Newest first"],
      ["uploaded_at", "Oldest first"],
      ["title", "Title A–Z"],
      ["-title", "Title Z–A"],
      ["-taken_at", "Taken, newest first"],
      ["taken_at", "Taken, oldest first"],
    ]),
    h("button", { type: "submit" }, "Apply"),
  );
  const apply = () => {
    const data = new FormData(form);
    const value = (/** @type {string} */ name) => String(data.get(name) ?? "");
    go(
      withQuery(location.pathname, {
        q: value("q"),
        status: value("status"),
        gallery_id: value("gallery_id"),
        sort: value("sort"),
      }),
      { replace: true },
    );
  };
  form.onsubmit = (event) => {
    event.preventDefault();
    apply();
  };
  for (const select of form.querySelectorAll("select")) select.onchange = apply;

  const count = h("p", { class: "muted", "aria-live": "polite" });
  const list = h("ul", { class: "grid", "aria-label": "Images" });
  const more = h("button", { type: "button", class: "more", hidden: true }, "Load more");
  const actions = h(
    "div",
    { class: "actions" },
    can("images:upload") && h("a", { class: "button primary", href: "/upload" }, "Upload images"),
  );
  main.append(heading(gallery ? gallery.name : "Images"), actions, form, count, list, more);

  /** @type {string | null} */
  let cursor = null;
  let loading = false;
  const load = async () => {
    if (loading) return;
    loading = true;
    more.disabled = true;
    try {
      // As many per call as the server lists at once.
      const { max_per_page } = await limits();
      const page = await call("GET", withQuery("/images", { ...filters, per_page: max_per_page, cursor }));
      if (!cursor)
        fill(
          count,
          page.total
            ? `${page.total}${page.total_exact ? "" : "+"} image${page.total === 1 ? "" : "s"}`
            : "No images match.",
        );
      list.append(...page.items.map(tile));
      cursor = page.next;
      more.hidden = !cursor;
    } catch (error) {
      main.append(alertBox(error));
      observer.disconnect();
    } finally {
      loading = false;
      more.disabled = false;
    }
    // A short first page may not fill the screen: keep going while the end is in view.
    if (cursor && more.getBoundingClientRect().top < innerHeight) void load();
  };
  more.onclick = () => void load();
  const observer = new IntersectionObserver(
    (entries) => entries.some((e) => e.isIntersecting) && cursor && void load(),
    {
      rootMargin: "800px",
    },
  );
  observer.observe(more);
  await load();
}

/** @param {import("../images.js").Image} image */
function tile(image) {
  return h(
    "li",
    null,
    h(
      "a",
      { href: `/images/${image.id}`, class: "tile" },
      picture(image, ROW, { phone: PHONE_ROW, alt: "" }),
      h(
        "span",
        { class: "caption" },
        h("span", { class: "title" }, image.title || "Untitled"),
        image.status !== "approved" && badge(image.status),
      ),
    ),
  );
}
