// @ts-check
/** Sign in and sign up. */

import { call, signIn } from "../api.js";
import { announce, choice, field, h, heading, submitting } from "../dom.js";
import { go } from "../router.js";

/** @type {import("../router.js").Page["render"]} */
export async function render(main, _params, query) {
  const next = safeNext(query.get("next"));
  if (location.pathname === "/signup") return signUp(main, next);
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "auth-title" },
    field("Username", { name: "username", autocomplete: "username", required: true }),
    field("Password", { name: "password", type: "password", autocomplete: "current-password", required: true }),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    const data = new FormData(form);
    void submitting(form, async () => {
      await signIn(String(data.get("username")), String(data.get("password")));
      go(next);
    });
  };
  const title = heading("Sign in");
  title.id = "auth-title";
  main.append(title, form, h("p", null, "New here? ", h("a", { href: "/signup" }, "Create an account")));
}

/**
 * @param {HTMLElement} main
 * @param {string} next
 */
async function signUp(main, next) {
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "auth-title" },
    field("Username", {
      name: "username",
      autocomplete: "username",
      required: true,
      minLength: 3,
      maxLength: 32,
      pattern: "[A-Za-z0-9_.\\-]+",
    }),
    field("Email (optional)", { name: "email", type: "email", autocomplete: "email" }),
    field("Password", {
      name: "password",
      type: "password",
      autocomplete: "new-password",
      required: true,
      minLength: 8,
    }),
    field("Password again", {
      name: "password_confirm",
      type: "password",
      autocomplete: "new-password",
      required: true,
    }),
    choice("Account type", { name: "role", value: "subscriber" }, [
      ["subscriber", "Subscriber: view, share with your plan"],
      ["beta_player", "Beta player: upload and manage images"],
      ["company_user", "Company user: view only"],
    ]),
    h("button", { type: "submit", class: "primary" }, "Create account"),
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    if (!data.email) delete data.email;
    void submitting(form, async () => {
      await call("POST", "/auth/register", data);
      await signIn(String(data.username), String(data.password));
      announce("Welcome to Gallery");
      go(next);
    });
  };
  const title = heading("Create an account");
  title.id = "auth-title";
  main.append(title, form, h("p", null, "Have an account? ", h("a", { href: "/login" }, "Sign in")));
}

/** Where to go after signing in: a path of this app, never another site. @param {string | null} next */
function safeNext(next) {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
