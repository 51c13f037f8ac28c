// @ts-check
/** The moderation queue: pending images, oldest first, decided by button or keyboard. */

import { call, limits, withQuery } from "../api.js";
import { alertBox, announce, field, fill, h, heading, when } from "../dom.js";
import { badge, picture, showDecisions } from "../images.js";

/** @type {import("../router.js").Page["render"]} */
export async function render(main) {
  /** The oldest pending images (decided ones leave the set, so the first page is always next). */
  const pending = async () =>
    /** @type {import("../images.js").Image[]} */ (
      (
        await call(
          "GET",
          withQuery("/images", { status: "pending", sort: "uploaded_at", per_page: (await limits()).max_per_page }),
        )
      ).items
    );
  let queue = await pending();
  let at = 0;
  const list = h("ol", { class: "queue", "aria-label": "Pending images" });
  const panel = h("section", { class: "card decide", "aria-live": "polite", "aria-label": "Selected image" });
  main.append(
    heading("Moderation"),
    h(
      "p",
      { class: "muted" },
      "Keys: ",
      h("kbd", null, "j"),
      " / ",
      h("kbd", null, "k"),
      " next and previous, ",
      h("kbd", null, "a"),
      " approve, ",
      h("kbd", null, "r"),
      " reject (with the reason typed).",
    ),
    h("div", { class: "moderation" }, list, panel),
  );

  const reason = field("Reason (needed to reject)", { name: "reason", maxLength: 500 });
  const reasonInput = /** @type {HTMLInputElement} */ (reason.querySelector("input"));

  const show = async () => {
    // A list of its own each time: a slow answer for an image no longer shown lands nowhere.
    const decisions = h("ol", { class: "history" });
    fill(
      list,
      queue.map((image, i) =>
        h(
          "li",
          null,
          h(
            "button",
            {
              type: "button",
              class: i === at ? "selected" : "",
              "aria-current": i === at ? "true" : null,
              onclick: () => {
                at = i;
                void show();
              },
            },
            image.title || "Untitled",
            " · ",
            image.uploaded_by.username,
          ),
        ),
      ),
    );
    const image = queue[at];
    if (!image) {
      fill(panel, h("p", null, "The queue is empty. Nothing waits for a decision."));
      return;
    }
    fill(
      panel,
      h("h2", null, image.title || "Untitled", " ", badge(image.status)),
      h("p", { class: "muted" }, `by ${image.uploaded_by.username}, ${when(image.uploaded_at)}`),
      h("a", { href: `/images/${image.id}` }, picture(image, Math.min(360, image.height), { eager: true })),
      image.description && h("p", null, image.description),
      reason,
      h(
        "div",
        { class: "row" },
        h("button", { type: "button", class: "primary", onclick: () => void decide("approved") }, "Approve (a)"),
        h("button", { type: "button", onclick: () => void decide("rejected") }, "Reject (r)"),
      ),
      h("h3", null, "Decision history"),
      decisions,
    );
    await showDecisions(decisions, image.id);
  };

  /** @param {"approved" | "rejected"} decision */
  const decide = async (decision) => {
    const image = queue[at];
    if (!image) return;
    const why = reasonInput.value.trim();
    if (decision === "rejected" && !why) {
      reasonInput.focus();
      announce("Type a reason to reject");
      return;
    }
    try {
      await call("POST", `/images/${image.id}/approval`, why ? { decision, reason: why } : { decision });
      announce(`${image.title || "Image"} ${decision}`);
      queue = queue.filter((i) => i !== image);
      if (!queue.length) queue = await pending();
      at = Math.max(0, Math.min(at, queue.length - 1));
      reasonInput.value = "";
      await show();
    } catch (error) {
      panel.append(alertBox(error));
    }
  };

  const keys = (/** @type {KeyboardEvent} */ event) => {
    if (!panel.isConnected) return document.removeEventListener("keydown", keys);
    const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement;
    if (event.ctrlKey || event.metaKey || event.altKey || (typing && event.key !== "Enter")) return;
    if (typing && event.key === "Enter") {
      event.preventDefault();
      void decide("rejected");
    } else if (event.key === "j" || event.key === "k") {
      at = Math.max(0, Math.min(queue.length - 1, at + (event.key === "j" ? 1 : -1)));
      void show();
    } else if (event.key === "a") {
      void decide("approved");
    } else if (event.key === "r") {
      event.preventDefault();
      if (reasonInput.value.trim()) void decide("rejected");
      else reasonInput.focus();
    }
  };
  document.addEventListener("keydown", keys);
  await show();
}
