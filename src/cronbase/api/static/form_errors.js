// How every form shows what is wrong: each error at its field (the element `${prefix}${field}`
// and its message in `${prefix}${field}-error`), and all of them listed in the form's summary,
// which takes the focus so a screen reader reads them. The server names fields as the API does
// (`job_ids.1`); a field with no element of its own is shown at `fieldOf(field)`, else only in
// the list.

import { el } from "./format.js";

export class FormErrors {
  /**
   * @param summary the form's error box (role="alert", tabindex="-1")
   * @param options.prefix what the form's element ids start with ("" for the page's main form)
   * @param options.labels names to list fields by ({ url: "Address" }); else the field's name
   * @param options.fieldOf where an error without an element of its own is shown
   */
  constructor(summary, { prefix = "", labels = {}, fieldOf = (field) => field.split(".")[0] } = {}) {
    this.summary = summary;
    this.prefix = prefix;
    this.labels = labels;
    this.fieldOf = fieldOf;
    this.marked = new Set();
  }

  inputOf(field) {
    return document.getElementById(`${this.prefix}${field}`);
  }

  /** Show `message` at `field` ("" clears it); false if the field has no place for it. */
  set(field, message) {
    const node = document.getElementById(`${this.prefix}${field}-error`);
    if (!node) return false;
    node.textContent = message;
    const input = this.inputOf(field);
    if (input && message) input.setAttribute("aria-invalid", "true");
    else if (input) input.removeAttribute("aria-invalid");
    if (message) this.marked.add(field);
    return true;
  }

  /** The message shown at `field`, if any. */
  get(field) {
    return document.getElementById(`${this.prefix}${field}-error`)?.textContent || "";
  }

  /** Clear every field marked so far, and the summary. */
  clear() {
    for (const field of this.marked) this.set(field, "");
    this.marked.clear();
    this.summary.hidden = true;
    this.summary.replaceChildren();
  }

  /** Put each error at its field; list them all in the summary under `message`, focused. */
  show(errors, message) {
    const items = errors.map(({ field, message: text }) => {
      const shownAt = this.set(field, text) ? field : this.set(this.fieldOf(field), text) && this.fieldOf(field);
      if (shownAt) {
        const details = this.inputOf(shownAt)?.closest("details");
        if (details) details.open = true;
      }
      const name = shownAt || field;
      const label = this.labels[name] || name.replace(/_/g, " ");
      const where = shownAt ? el("a", { href: `#${this.prefix}${shownAt}` }, label) : label;
      return el("li", {}, where, `: ${text}`);
    });
    this.summary.replaceChildren(el("p", {}, message), el("ul", {}, ...items));
    this.summary.hidden = false;
    this.summary.focus();
  }
}
