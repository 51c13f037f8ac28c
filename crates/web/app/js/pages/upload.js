// @ts-check
/** Upload many images at once: drop them or pick them, and watch each one go. */

import { Problem, limits, upload } from "../api.js";
import { bytes, choice, explain, field, h, heading } from "../dom.js";
import { galleryChoices } from "../images.js";

/** @type {import("../router.js").Page["render"]} */
export async function render(main) {
  // As many at once as the server lets one user run (`server.max_uploads_per_user`).
  const [galleries, { max_uploads_per_user: atOnce }] = await Promise.all([galleryChoices(), limits()]);
  const input = h("input", {
    type: "file",
    id: "files",
    name: "files",
    multiple: true,
    accept: "image/jpeg,image/png,image/gif,image/webp,image/heic,image/heif,image/avif,.heic,.heif,.avif",
    class: "visually-hidden",
  });
  const zone = h(
    "div",
    { class: "drop" },
    h("p", null, "Drop images here, or"),
    h("label", { for: "files", class: "button primary" }, "Choose files"),
    input,
    h(
      "p",
      { class: "muted" },
      "JPEG, PNG, GIF, WebP, HEIC or AVIF. New images wait for approval before others see them.",
    ),
  );
  const options = h(
    "div",
    { class: "row" },
    choice("Gallery", { name: "gallery_id" }, [["", "None"], ...galleries]),
    field("Description for all (optional)", { name: "description", maxLength: 2000 }),
  );
  const list = h("ul", { class: "uploads", "aria-label": "Uploads" });
  main.append(heading("Upload"), options, zone, list);

  /** @type {(() => Promise<void>)[]} */
  const queue = [];
  let running = 0;
  const pump = () => {
    while (running < atOnce && queue.length) {
      const job = /** @type {() => Promise<void>} */ (queue.shift());
      running += 1;
      void job().finally(() => {
        running -= 1;
        pump();
      });
    }
  };
  /** @param {Iterable<File>} files */
  const add = (files) => {
    const gallery = /** @type {HTMLSelectElement} */ (options.querySelector("select")).value;
    const description = /** @type {HTMLInputElement} */ (options.querySelector("input")).value;
    for (const file of files) {
      const bar = h("progress", { max: 1, value: 0, "aria-label": `Upload of ${file.name}` });
      const state = h("span", { class: "state" }, "Waiting");
      const item = h(
        "li",
        null,
        h("span", { class: "name" }, file.name),
        h("span", { class: "muted" }, bytes(file.size)),
        bar,
        state,
      );
      list.append(item);
      queue.push(() => send(file, { gallery, description }, bar, state, item));
    }
    pump();
  };
  input.onchange = () => {
    add(input.files ?? []);
    input.value = "";
  };
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    add(event.dataTransfer?.files ?? []);
  });
}

/**
 * Uploads `file`, retrying while the server says too many are in progress.
 * @param {File} file
 * @param {{gallery: string, description: string}} options
 * @param {HTMLProgressElement} bar
 * @param {HTMLElement} state
 * @param {HTMLElement} item
 */
async function send(file, { gallery, description }, bar, state, item) {
  const form = new FormData();
  form.append("title", file.name.replace(/\.[^.]+$/, "").slice(0, 200));
  if (description) form.append("description", description);
  if (gallery) form.append("gallery_id", gallery);
  form.append("file", file);
  for (;;) {
    state.textContent = "Uploading";
    try {
      const image = await upload(form, (done) => {
        bar.value = done;
      });
      bar.value = 1;
      item.classList.add("done");
      state.replaceChildren(
        h(
          "a",
          { href: `/images/${image.id}` },
          image.status === "pending" ? "Uploaded, awaiting approval" : "Uploaded",
        ),
      );
      return;
    } catch (error) {
      if (error instanceof Problem && error.status === 429) {
        state.textContent = "Waiting for a free slot";
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, error.retryAfter) * 1000));
        continue;
      }
      item.classList.add("failed");
      bar.value = 0;
      state.replaceChildren(h("span", { role: "alert" }, `Refused: ${explain(error)}`));
      return;
    }
  }
}
