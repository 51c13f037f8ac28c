// @ts-check
/** Small helpers for building the pages: no framework, no inline styles or scripts. */

import { Problem } from "./api.js";

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Record<string, any>} Props
 */

/**
 * Builds an element. `props` are properties (`onclick`, `value`, `disabled`, ...) or, when
 * the name has a dash or is `for`/`class`/`role`, attributes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props | null} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.includes("-") || key === "for" || key === "class" || key === "role") {
      el.setAttribute(key, value === true ? "" : String(value));
    } else {
      /** @type {any} */ (el)[key] = value;
    }
  }
  el.append(...nodes(children));
  return el;
}

/** @param {(Child | Child[])[]} children @returns {(Node | string)[]} */
function nodes(children) {
  return children
    .flat()
    .flatMap((c) => (c === null || c === undefined || c === false ? [] : [typeof c === "number" ? String(c) : c]));
}

/**
 * Replaces the children of `el`.
 * @param {Element} el
 * @param {...(Child | Child[])} children
 */
export function fill(el, ...children) {
  el.replaceChildren(...nodes(children));
}

/** Says `message` to screen readers and shows it briefly. @param {string} message */
export function announce(message) {
  const status = document.getElementById("status");
  if (!status) return;
  status.textContent = message;
  status.classList.add("shown");
  clearTimeout(Number(status.dataset.timer));
  status.dataset.timer = String(setTimeout(() => status.classList.remove("shown"), 4000));
}

/** What to tell a person about a failure. @param {unknown} error */
export function explain(error) {
  if (error instanceof Problem) {
    const fields = error.errors.map((e) => `${e.field} ${e.message}`).join("; ");
    return fields ? `${error.message}: ${fields}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * An alert box for a failure, placed where the action was.
 * @param {unknown} error
 */
export function alertBox(error) {
  const text = explain(error);
  return h("p", { class: "alert", role: "alert" }, text.charAt(0).toUpperCase() + text.slice(1));
}

/**
 * Runs `action` for a form: disables it meanwhile, shows a failure inside the form, and
 * marks the fields the server named.
 * @param {HTMLFormElement} form
 * @param {() => Promise<void>} action
 */
export async function submitting(form, action) {
  form.querySelector(".alert")?.remove();
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  const button = form.querySelector("button[type=submit]");
  if (button instanceof HTMLButtonElement) button.disabled = true;
  try {
    await action();
  } catch (error) {
    if (error instanceof Problem) {
      for (const e of error.errors)
        form.querySelector(`[name="${CSS.escape(e.field)}"]`)?.setAttribute("aria-invalid", "true");
    }
    form.prepend(alertBox(error));
  } finally {
    if (button instanceof HTMLButtonElement) button.disabled = false;
  }
}

/**
 * A button that runs `action` when pressed: disabled meanwhile, and a failure is shown
 * right after it (and replaced by the next attempt's).
 * @param {string} label
 * @param {Props} props more properties (`class`, ...)
 * @param {() => Promise<void>} action
 */
export function button(label, props, action) {
  const el = h("button", { type: "button", ...props }, label);
  el.onclick = async () => {
    if (el.nextElementSibling?.classList.contains("alert")) el.nextElementSibling.remove();
    el.disabled = true;
    try {
      await action();
    } catch (error) {
      el.after(alertBox(error));
    } finally {
      el.disabled = false;
    }
  };
  return el;
}

/**
 * A labelled input.
 * @param {string} label
 * @param {Props} props (`name` is required)
 */
export function field(label, props) {
  const id = `f-${props.name}-${Math.random().toString(36).slice(2, 7)}`;
  const tag = props.rows ? "textarea" : "input";
  return h("div", { class: "field" }, h("label", { for: id }, label), h(tag, { id, ...props }));
}

/**
 * A labelled select.
 * @param {string} label
 * @param {Props} props
 * @param {[string, string][]} options value and text
 */
export function choice(label, props, options) {
  const id = `f-${props.name}-${Math.random().toString(36).slice(2, 7)}`;
  const select = h(
    "select",
    { id, ...props },
    options.map(([value, text]) => h("option", { value }, text)),
  );
  if (props.value !== undefined) select.value = props.value;
  return h("div", { class: "field" }, h("label", { for: id }, label), select);
}

/** @param {number} bytes */
export function bytes(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${n.toFixed(i && n < 10 ? 1 : 0)} ${units[i]}`;
}

/** @param {string} iso */
export function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** @param {number} seconds */
export function duration(seconds) {
  if (seconds % 86400 === 0) return `${seconds / 86400} day${seconds === 86400 ? "" : "s"}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? "" : "s"}`;
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? "" : "s"}`;
  return `${seconds} seconds`;
}

/** A page heading that takes focus after navigation. @param {string} text */
export function heading(text) {
  document.title = `${text} · Gallery`;
  return h("h1", { tabIndex: -1 }, text);
}
