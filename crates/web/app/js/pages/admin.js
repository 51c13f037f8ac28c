// @ts-check
/** Administration: users (role, active, plan), roles (permissions) and plans (features). */

import { call, can, currentUser, withQuery } from "../api.js";
import { alertBox, announce, field, fill, h, heading, submitting } from "../dom.js";
import { go } from "../router.js";

/** @typedef {{id: string, name: string, description: string, permissions: string[], system: boolean, signup_allowed: boolean}} Role */

const SECTIONS = /** @type {const} */ ([
  ["users", "Users", "users:manage"],
  ["roles", "Roles", "roles:manage"],
  ["plans", "Plans", "plans:manage"],
]);

/** @type {import("../router.js").Page["render"]} */
export async function render(main, params) {
  const allowed = SECTIONS.filter(([, , permission]) => can(permission));
  const section = allowed.find(([key]) => key === params.section) ?? allowed[0];
  if (!section) {
    main.append(heading("Admin"), h("p", null, "Your role does not manage users, roles or plans."));
    return;
  }
  if (params.section !== section[0]) return go(`/admin/${section[0]}`, { replace: true });
  main.append(
    heading(`Admin: ${section[1]}`),
    h(
      "nav",
      { class: "tabs", "aria-label": "Admin sections" },
      h(
        "ul",
        null,
        allowed.map(([key, label]) =>
          h("li", null, h("a", { href: `/admin/${key}`, "aria-current": key === section[0] ? "page" : null }, label)),
        ),
      ),
    ),
  );
  const body = h("div");
  main.append(body);
  await { users, roles, plans }[section[0]](body);
}

/** @param {HTMLElement} body */
async function users(body) {
  /** @type {Role[]} */
  const roles = await call("GET", "/roles");
  /** @type {{code: string, name: string}[]} */
  const plans = can("subscriptions:manage") ? await call("GET", "/plans") : [];
  const search = h(
    "form",
    { class: "row", role: "search", "aria-label": "Find users" },
    field("Find", { name: "q", type: "search" }),
    h("button", { type: "submit" }, "Find"),
  );
  const table = h("table", { class: "table" });
  const pager = h("div", { class: "row" });
  body.append(search, h("div", { class: "scroll" }, table), pager);
  let page = 1;
  const load = async () => {
    const q = String(new FormData(search).get("q") ?? "");
    // The server's default page size, as each answer says (`per_page`).
    const result = await call("GET", withQuery("/users", { q, page }));
    fill(
      table,
      h("caption", { class: "visually-hidden" }, "Users"),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["User", "Email", "Role", "Active", "Plan"].map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      h(
        "tbody",
        null,
        result.items.map((/** @type {import("../api.js").User} */ user) => row(user, roles, plans)),
      ),
    );
    fill(
      pager,
      h(
        "button",
        {
          type: "button",
          disabled: page <= 1,
          onclick: () => {
            page -= 1;
            void load();
          },
        },
        "Previous",
      ),
      h("span", { class: "muted" }, `Page ${page} of ${Math.max(1, Math.ceil(result.total / result.per_page))}`),
      h(
        "button",
        {
          type: "button",
          disabled: page * result.per_page >= result.total,
          onclick: () => {
            page += 1;
            void load();
          },
        },
        "Next",
      ),
    );
  };
  search.onsubmit = (event) => {
    event.preventDefault();
    page = 1;
    void load();
  };
  await load();
}

/**
 * One user's row: each control saves on change, and goes back on a refusal.
 * @param {import("../api.js").User} user
 * @param {Role[]} roles
 * @param {{code: string, name: string}[]} plans
 */
function row(user, roles, plans) {
  const self = user.id === currentUser()?.id;
  const cell = h("td");
  /**
   * @param {HTMLInputElement | HTMLSelectElement} control
   * @param {() => Promise<unknown>} save
   * @param {() => void} undo
   */
  const saving = (control, save, undo) => {
    control.onchange = async () => {
      cell.querySelector(".alert")?.remove();
      control.disabled = true;
      try {
        await save();
        announce(`${user.username} saved`);
      } catch (error) {
        undo();
        cell.append(alertBox(error));
      } finally {
        control.disabled = false;
      }
    };
  };
  const role = h(
    "select",
    { "aria-label": `Role of ${user.username}`, disabled: self },
    roles.map((r) => h("option", { value: r.name }, r.name)),
  );
  role.value = user.role;
  saving(
    role,
    () => call("PATCH", `/users/${user.id}`, { role: role.value }),
    () => (role.value = user.role),
  );
  const active = h("input", {
    type: "checkbox",
    checked: user.is_active,
    "aria-label": `${user.username} is active`,
    disabled: self,
  });
  saving(
    active,
    () => call("PATCH", `/users/${user.id}`, { is_active: active.checked }),
    () => (active.checked = !active.checked),
  );
  let plan = h("span", null, user.plan);
  if (plans.length) {
    const select = h(
      "select",
      { "aria-label": `Plan of ${user.username}` },
      plans.map((p) => h("option", { value: p.code }, p.name)),
    );
    select.value = user.plan;
    saving(
      select,
      () => call("PUT", `/users/${user.id}/subscription`, { plan: select.value }),
      () => (select.value = user.plan),
    );
    plan = select;
  }
  cell.append(plan);
  return h(
    "tr",
    null,
    h("th", { scope: "row" }, user.username),
    h("td", null, user.email ?? ""),
    h("td", null, role),
    h("td", null, active),
    cell,
  );
}

/** @param {HTMLElement} body */
async function roles(body) {
  /** @type {{code: string, description: string}[]} */
  const permissions = await call("GET", "/permissions");
  const list = h("div", { class: "cards" });
  const create = h(
    "form",
    { class: "card row", "aria-label": "New role" },
    field("Name", { name: "name", required: true, pattern: "[a-z0-9_\\-]{2,64}" }),
    field("Description", { name: "description" }),
    h("button", { type: "submit", class: "primary" }, "Create role"),
  );
  const refresh = async () => {
    /** @type {Role[]} */
    const all = await call("GET", "/roles");
    fill(
      list,
      all.map((role) => editor(role, permissions, refresh)),
    );
  };
  create.onsubmit = (event) => {
    event.preventDefault();
    void submitting(create, async () => {
      await call("POST", "/roles", { ...Object.fromEntries(new FormData(create)), permissions: ["images:read"] });
      create.reset();
      announce("Role created");
      await refresh();
    });
  };
  body.append(create, list);
  await refresh();
}

/**
 * @param {Role} role
 * @param {{code: string, description: string}[]} permissions
 * @param {() => Promise<void>} refresh
 */
function editor(role, permissions, refresh) {
  const locked = role.system;
  const form = h(
    "form",
    { class: "card", "aria-labelledby": `role-${role.id}` },
    h("h2", { id: `role-${role.id}` }, role.name, locked && h("span", { class: "badge" }, "built-in")),
    role.description && h("p", { class: "muted" }, role.description),
    h(
      "fieldset",
      { disabled: locked },
      h("legend", null, "Permissions"),
      h(
        "ul",
        { class: "checks" },
        permissions.map((p) =>
          h(
            "li",
            null,
            h(
              "label",
              null,
              h("input", {
                type: "checkbox",
                name: "permissions",
                value: p.code,
                checked: role.permissions.includes(p.code),
              }),
              ` ${p.code}`,
              h("span", { class: "muted" }, ` — ${p.description}`),
            ),
          ),
        ),
      ),
      h(
        "label",
        null,
        h("input", { type: "checkbox", name: "signup_allowed", checked: role.signup_allowed }),
        " Open to sign-up",
      ),
    ),
    !locked &&
      h(
        "div",
        { class: "row" },
        h("button", { type: "submit" }, "Save role"),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            onclick: async () => {
              if (!confirm(`Delete the role ${role.name}?`)) return;
              await submitting(form, async () => {
                await call("DELETE", `/roles/${role.id}`);
                announce("Role deleted");
                await refresh();
              });
            },
          },
          "Delete role",
        ),
      ),
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    const data = new FormData(form);
    void submitting(form, async () => {
      await call("PATCH", `/roles/${role.id}`, {
        permissions: data.getAll("permissions"),
        signup_allowed: data.has("signup_allowed"),
      });
      announce("Role saved");
    });
  };
  return form;
}

/** @param {HTMLElement} body */
async function plans(body) {
  const list = h("div", { class: "cards" });
  const refresh = async () => {
    /** @type {import("../images.js").Plan[]} */
    const all = await call("GET", "/plans");
    fill(list, all.map(features));
  };
  const create = h(
    "form",
    { class: "card row", "aria-label": "New plan" },
    field("Code", { name: "code", required: true }),
    field("Name", { name: "name", required: true }),
    h("button", { type: "submit", class: "primary" }, "Create plan"),
  );
  create.onsubmit = (event) => {
    event.preventDefault();
    void submitting(create, async () => {
      await call("POST", "/plans", Object.fromEntries(new FormData(create)));
      create.reset();
      announce("Plan created");
      await refresh();
    });
  };
  body.append(create, list);
  await refresh();
}

/** The features editor of one plan. @param {import("../images.js").Plan} plan */
function features(plan) {
  const f = plan.features;
  const check = (/** @type {string} */ name, /** @type {string} */ label, /** @type {boolean} */ on) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name, checked: on }), ` ${label}`);
  const form = h(
    "form",
    { class: "card", "aria-labelledby": `plan-${plan.id}` },
    h("h2", { id: `plan-${plan.id}` }, plan.name, " ", h("code", null, plan.code)),
    h(
      "div",
      { class: "row" },
      field("Name", { name: "name", value: plan.name, required: true }),
      field("Price (cents)", { name: "price_cents", type: "number", min: 0, value: plan.price_cents }),
    ),
    h(
      "div",
      { class: "row" },
      check("is_public", "Public", plan.is_public),
      check("original_access", "Original files", f.original_access),
      check("expiring_links", "Share links", f.expiring_links),
    ),
    field("Thumbnail heights (px, comma-separated)", {
      name: "thumbnail_heights",
      value: f.thumbnail_heights.join(", "),
      required: true,
    }),
    h(
      "div",
      { class: "row" },
      field("Shortest link (s)", { name: "link_ttl_min", type: "number", min: 1, value: f.link_ttl_min }),
      field("Longest link (s)", { name: "link_ttl_max", type: "number", min: 1, value: f.link_ttl_max }),
    ),
    h(
      "div",
      { class: "row" },
      field("Largest upload (bytes)", { name: "max_upload_bytes", type: "number", min: 1, value: f.max_upload_bytes }),
      field("Storage quota (bytes)", {
        name: "storage_quota_bytes",
        type: "number",
        min: 0,
        value: f.storage_quota_bytes,
      }),
    ),
    h("button", { type: "submit" }, "Save plan"),
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const number = (/** @type {string} */ name) => Number(data.get(name));
    void submitting(form, async () => {
      await call("PATCH", `/plans/${plan.id}`, {
        name: data.get("name"),
        price_cents: number("price_cents"),
        is_public: data.has("is_public"),
        features: {
          thumbnail_heights: String(data.get("thumbnail_heights"))
            .split(/[\s,]+/)
            .filter(Boolean)
            .map(Number),
          original_access: data.has("original_access"),
          expiring_links: data.has("expiring_links"),
          link_ttl_min: number("link_ttl_min"),
          link_ttl_max: number("link_ttl_max"),
          max_upload_bytes: number("max_upload_bytes"),
          storage_quota_bytes: number("storage_quota_bytes"),
        },
      });
      announce(`${plan.name} saved`);
    });
  };
  return form;
}
