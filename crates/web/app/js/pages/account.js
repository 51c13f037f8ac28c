// @ts-check
/** The caller's account: email, password, and plan (choose or cancel). */

import { call, currentUser, reloadUser } from "../api.js";
import { announce, button, bytes, duration, fill, field, h, heading, submitting, when } from "../dom.js";
import { plans } from "../images.js";

/** @type {import("../router.js").Page["render"]} */
export async function render(main) {
  const user = /** @type {import("../api.js").User} */ (currentUser());
  const email = h(
    "form",
    { class: "card", "aria-labelledby": "email-title" },
    h("h2", { id: "email-title" }, "Email"),
    field("Email", { name: "email", type: "email", value: user.email ?? "", autocomplete: "email" }),
    h("button", { type: "submit" }, "Save email"),
  );
  email.onsubmit = (event) => {
    event.preventDefault();
    const value = String(new FormData(email).get("email") ?? "").trim();
    void submitting(email, async () => {
      await call("PATCH", "/users/me", { email: value || null });
      await reloadUser();
      announce("Email saved");
    });
  };
  const password = h(
    "form",
    { class: "card", "aria-labelledby": "password-title" },
    h("h2", { id: "password-title" }, "Password"),
    h("input", { type: "text", name: "username", value: user.username, autocomplete: "username", hidden: true }),
    field("Current password", {
      name: "current_password",
      type: "password",
      autocomplete: "current-password",
      required: true,
    }),
    field("New password", {
      name: "new_password",
      type: "password",
      autocomplete: "new-password",
      required: true,
      minLength: 8,
    }),
    h("p", { class: "muted" }, "Changing it signs you out everywhere else."),
    h("button", { type: "submit" }, "Change password"),
  );
  password.onsubmit = (event) => {
    event.preventDefault();
    const data = new FormData(password);
    void submitting(password, async () => {
      await call("PATCH", "/users/me", {
        current_password: data.get("current_password"),
        new_password: data.get("new_password"),
      });
      password.reset();
      announce("Password changed");
    });
  };
  const plan = h("section", { class: "card wide", "aria-labelledby": "plan-title" });
  main.append(
    heading("Account"),
    h("p", null, `Signed in as ${user.username} (${user.role.replace("_", " ")}), on the ${user.plan} plan.`),
    h("div", { class: "columns" }, email, password),
    plan,
  );
  await subscription(plan);
}

/** @param {HTMLElement} section */
async function subscription(section) {
  const user = /** @type {import("../api.js").User} */ (currentUser());
  /** @type {{plan: string, status: string, current_period_end: string | null, cancel_at_period_end: boolean} | null} */
  const current = await call("GET", "/subscriptions/me").catch(() => null);
  const { plans: all } = await plans(user.plan);
  const redraw = async () => {
    await reloadUser();
    section.replaceChildren();
    await subscription(section);
  };
  const status =
    current && current.status !== "expired"
      ? `${current.plan}, ${current.cancel_at_period_end ? "canceled" : current.status}${current.current_period_end ? `, until ${when(current.current_period_end)}` : ""}`
      : `no subscription: the ${user.plan} plan applies`;
  const cancel =
    current && current.status === "active" && !current.cancel_at_period_end
      ? button("Cancel subscription", {}, async () => {
          await call("DELETE", "/subscriptions/me");
          announce("Subscription canceled at the end of the period");
          await redraw();
        })
      : null;
  fill(
    section,
    h("h2", { id: "plan-title" }, "Plan"),
    h("p", null, `Subscription: ${status}. `, cancel),
    h(
      "ul",
      { class: "plans" },
      all.map((plan) =>
        h(
          "li",
          { class: plan.code === user.plan ? "card current" : "card" },
          h("h3", null, plan.name, plan.code === user.plan && h("span", { class: "badge approved" }, "yours")),
          h(
            "p",
            { class: "price" },
            plan.price_cents
              ? `${(plan.price_cents / 100).toFixed(2)} ${plan.currency} a ${plan.billing_period}`
              : "Free",
          ),
          plan.description && h("p", null, plan.description),
          h(
            "ul",
            { class: "features" },
            h("li", null, `Thumbnails: ${plan.features.thumbnail_heights.join(", ")} px`),
            h("li", null, plan.features.original_access ? "Original files" : "No original files"),
            h(
              "li",
              null,
              plan.features.expiring_links
                ? `Share links, ${duration(plan.features.link_ttl_min)} to ${duration(plan.features.link_ttl_max)}`
                : "No share links",
            ),
            h(
              "li",
              null,
              `Uploads up to ${bytes(plan.features.max_upload_bytes)}, ${bytes(plan.features.storage_quota_bytes)} stored`,
            ),
          ),
          plan.code !== user.plan &&
            button(`Choose ${plan.name}`, { class: "primary" }, async () => {
              await call("POST", "/subscriptions", { plan: plan.code });
              announce(`You are now on the ${plan.name} plan`);
              await redraw();
            }),
        ),
      ),
    ),
  );
}
