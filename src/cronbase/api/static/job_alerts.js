// A job page's alert settings and state: its overdue grace, its mute (with Mute… or Unmute),
// an alert episode going on, and the maintenance windows that cover it, now or planned.

import { api } from "./api.js";
import { el, flash, timeElement } from "./format.js";
import { askMute, isMuted } from "./mute.js";

const at = (iso) => timeElement(iso, { relativeText: false });

/** The maintenance windows not ended yet (none if they cannot be read). */
export async function maintenanceWindows() {
  try {
    return (await api("/api/cron/maintenance")).windows;
  } catch {
    return [];
  }
}

/** Those of `windows` that cover `job`. */
export function covering(windows, job) {
  return windows.filter(
    (w) => (w.tenant_id === null || w.tenant_id === job.tenant_id) && (w.job_ids === null || w.job_ids.includes(job.id)),
  );
}

function windowLine(win) {
  const reason = win.reason ? ` (${win.reason})` : "";
  const going = Date.parse(win.starts_at) <= Date.now();
  return going
    ? el("li", { class: "muted-state" }, "in a maintenance window until ", at(win.ends_at), `${reason}: no alert is sent`)
    : el("li", {}, "maintenance planned from ", at(win.starts_at), " until ", at(win.ends_at), reason);
}

/**
 * The "Alerts" entry's content. `changed(job)` is called with the job once its mute changed.
 */
export function alertState(job, windows, changed) {
  const parts = [`overdue after ${job.overdue_after_seconds} s`];
  const muted = isMuted(job.muted_until);
  if (muted) parts.push("; muted until ", at(job.muted_until));
  if (job.alerting_since) parts.push("; alerting since ", at(job.alerting_since));
  const save = async (until) => {
    const data = await api(`/api/cron/jobs/${job.id}`, { method: "PUT", body: { muted_until: until } });
    await changed(data.job);
  };
  const button = el("button", { type: "button" }, muted ? "Unmute" : "Mute…");
  button.addEventListener("click", async () => {
    if (!muted) {
      const what = "No alert about this job is sent until then: those meanwhile are dropped, not sent later.";
      if (await askMute(job.name, what, save)) flash(`Muted “${job.name}”.`);
      return;
    }
    button.disabled = true;
    try {
      await save(null);
      flash(`Unmuted “${job.name}”: its alerts are sent again.`);
    } catch (error) {
      flash(`Could not unmute “${job.name}”: ${error.message}`);
      button.disabled = false;
    }
  });
  parts.push(" ", button);
  if (windows.length) parts.push(el("ul", { class: "maintenance-windows" }, ...windows.map(windowLine)));
  return parts;
}
