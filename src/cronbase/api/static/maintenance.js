// The channels page's maintenance windows: those that have not ended (going on, or planned),
// each ended early by deleting it, and a form to plan one. While a window lasts no alert about
// the jobs it covers is sent.

import { api } from "./api.js";
import { cell, el, flash, timeElement } from "./format.js";
import { FormErrors } from "./form_errors.js";
import { JobPicker, jobName } from "./job_picker.js";

const body = document.getElementById("windows-body");
const count = document.getElementById("window-count");
const form = document.getElementById("window-form");
const errors = new FormErrors(document.getElementById("window-form-errors"), {
  prefix: "window-",
  labels: { starts_at: "From", ends_at: "Until", tenant_id: "Tenant" },
});
const input = (field) => document.getElementById(`window-${field}`);
const picker = new JobPicker(document.getElementById("window-job_ids"), () => input("tenant_id").value);

// A datetime-local value is the browser's wall clock: sent as an instant with its offset.
const instant = (field) => (input(field).value ? new Date(input(field).value).toISOString() : null);

/** Start the section: `me` is the signed-in user, `tenantLabel(id)` names a tenant. */
export function startMaintenance(me, tenantLabel) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.getElementById("window-zone").textContent = zone;
  picker.reset();
  input("tenant_id").addEventListener("change", () => picker.find());
  if (me.role === "superadmin") document.getElementById("window-tenant-field").hidden = false;

  async function load() {
    let windows;
    try {
      ({ windows } = await api("/api/cron/maintenance"));
    } catch (error) {
      count.textContent = `Could not load the maintenance windows: ${error.message}`;
      return;
    }
    body.replaceChildren(...(await Promise.all(windows.map(row))));
    const going = windows.filter((w) => Date.parse(w.starts_at) <= Date.now()).length;
    count.textContent = windows.length
      ? `${windows.length} window(s): ${going} going on, ${windows.length - going} planned.`
      : "No maintenance window going on or planned: alerts are sent.";
  }

  async function row(win) {
    const going = Date.parse(win.starts_at) <= Date.now();
    const jobs = win.job_ids === null ? ["every job"] : await Promise.all(win.job_ids.map(jobName));
    // An admin cannot end a global window: only a superadmin may.
    const mayEnd = win.tenant_id !== null || me.role === "superadmin";
    const end = el("button", { type: "button", class: "danger" }, going ? "End now" : "Delete");
    end.addEventListener("click", () => endWindow(win, end));
    return el(
      "tr",
      { dataset: { windowId: win.id } },
      cell("State", el("span", { class: `badge ${going ? "status-running" : "status-pending"}` }, going ? "going on" : "planned")),
      cell("From", timeElement(win.starts_at, { relativeText: false })),
      cell("Until", timeElement(win.ends_at, { relativeText: false })),
      cell("Tenant", win.tenant_id ? tenantLabel(win.tenant_id) : "Global"),
      cell("Jobs", jobs.join(", ")),
      cell("Reason", win.reason || el("span", { class: "muted" }, "—")),
      cell("Actions", mayEnd ? end : el("span", { class: "muted" }, "a superadmin's")),
    );
  }

  async function endWindow(win, button) {
    button.disabled = true;
    try {
      await api(`/api/cron/maintenance/${win.id}`, { method: "DELETE" });
      flash(Date.parse(win.starts_at) <= Date.now() ? "Ended the maintenance window: alerts are sent again." : "Deleted the planned maintenance window.");
    } catch (error) {
      flash(`Could not end the window: ${error.message}`);
    }
    await load();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    const request = {
      ends_at: instant("ends_at"),
      job_ids: picker.value(),
      reason: input("reason").value,
    };
    if (instant("starts_at")) request.starts_at = instant("starts_at");
    if (input("tenant_id").value) request.tenant_id = input("tenant_id").value;
    if (!request.ends_at) {
      return errors.show([{ field: "ends_at", message: "choose when the window ends" }], "The window was not planned.");
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await api("/api/cron/maintenance", { method: "POST", body: request });
      form.reset();
      await picker.reset();
      flash("Planned the maintenance window.");
      await load();
    } catch (error) {
      errors.show(error.errors, `The window was not planned: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  });

  return load;
}

/** Add the tenants to the form's choice (a superadmin's). */
export function addTenantChoices(tenants) {
  for (const tenant of tenants) input("tenant_id").append(el("option", { value: tenant.id }, tenant.name));
}
