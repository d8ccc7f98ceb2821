// Muting a channel or a job: no alert is sent to (or about) it until a given time. One dialog
// for both pages: for 1 hour, for 8 hours, or until a time in the browser's zone.

import { el, timeElement } from "./format.js";

const HOUR = 3600 * 1000;
let dialog = null;

/** Is `mutedUntil` (ISO text or null) still in the future? */
export const isMuted = (mutedUntil) => Boolean(mutedUntil) && Date.parse(mutedUntil) > Date.now();

/** "muted until <time>", or null when not muted. */
export function mutedText(mutedUntil) {
  if (!isMuted(mutedUntil)) return null;
  return el("span", { class: "muted-state" }, "muted until ", timeElement(mutedUntil, { relativeText: false }));
}

function build() {
  const error = el("p", { class: "field-error", id: "mute-error", role: "alert" });
  const until = el("input", { type: "datetime-local", id: "mute-until", "aria-describedby": "mute-error" });
  const choice = (value, text, attributes = {}) => el("button", { value, ...attributes }, text);
  const node = el(
    "dialog",
    { id: "mute-dialog", "aria-labelledby": "mute-title" },
    el(
      "form",
      { method: "dialog" },
      el("h2", { id: "mute-title" }, "Mute"),
      el("p", { id: "mute-text" }),
      el("div", { class: "actions" }, choice("1", "For 1 hour"), choice("8", "For 8 hours")),
      el("div", { class: "field" }, el("label", { for: "mute-until" }, "Or until (your time zone)"), until, error),
      el(
        "div",
        { class: "actions" },
        choice("until", "Mute until then", { class: "primary" }),
        choice("cancel", "Cancel", { formnovalidate: true }),
      ),
    ),
  );
  // Enter in the time field means "until then", not the form's first button (1 hour).
  until.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    node.querySelector('button[value="until"]').click();
  });
  document.body.append(node);
  return node;
}

/**
 * Ask how long to mute `name`, then `save(isoInstant)`. A refusal (an ApiError) is shown in
 * the dialog, which stays open; resolves true once saved, false if cancelled.
 */
export function askMute(name, what, save) {
  dialog ??= build();
  const error = dialog.querySelector("#mute-error");
  const until = dialog.querySelector("#mute-until");
  dialog.querySelector("#mute-title").textContent = `Mute “${name}”`;
  dialog.querySelector("#mute-text").textContent = what;
  error.textContent = "";
  until.value = "";
  until.removeAttribute("aria-invalid");
  return new Promise((resolve) => {
    const onSubmit = async (event) => {
      const choice = event.submitter?.value;
      if (choice === "cancel") return; // the dialog closes by itself
      event.preventDefault();
      let instant;
      if (choice === "until") {
        const chosen = until.value ? new Date(until.value) : null;
        if (!chosen || Number.isNaN(chosen.getTime())) return fail("Choose a date and time, or one of the lengths above.");
        if (chosen.getTime() <= Date.now()) return fail("That time has passed: choose one in the future.");
        instant = chosen.toISOString();
      } else {
        instant = new Date(Date.now() + Number(choice) * HOUR).toISOString();
      }
      try {
        await save(instant);
      } catch (problem) {
        return fail(problem.message);
      }
      finish(true);
      dialog.close();
    };
    const fail = (message) => {
      error.textContent = message;
      until.setAttribute("aria-invalid", "true");
      until.focus();
    };
    const onClose = () => finish(false);
    const finish = (saved) => {
      dialog.querySelector("form").removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
      resolve(saved);
    };
    dialog.querySelector("form").addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
  });
}
