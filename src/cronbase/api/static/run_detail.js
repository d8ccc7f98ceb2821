// One run in a dialog: its status, error, the traceback of its failure and what it logged.
// Everything the job wrote is put in as text (el never parses HTML), so a log line such as
// "<img onerror=...>" shows as written and runs nothing.

import { api } from "./api.js";
import { absoluteTime, duration, el, statusBadge, withLocalTimes } from "./format.js";

const dialog = document.getElementById("run-detail");
const body = document.getElementById("run-detail-body");
let shown = null; // the run id the dialog is for, so a late answer for another is dropped

function section(title, text, empty) {
  return [
    el("h3", {}, title),
    text ? el("pre", { class: "run-text" }, text) : el("p", { class: "muted" }, empty),
  ];
}

function render(run) {
  document.getElementById("run-detail-title").textContent =
    `Run of ${absoluteTime(run.scheduled_for)}`;
  body.replaceChildren(
    el(
      "p",
      {},
      statusBadge(run.status),
      ` attempt ${run.attempt}, ${run.trigger}, ${duration(run.duration_ms)}`,
      run.worker_id ? `, on ${run.worker_id}` : "",
    ),
    ...(run.error ? [el("p", { class: "error-text" }, withLocalTimes(run.error))] : []),
    ...section("Traceback", run.traceback, "No traceback: the run did not raise."),
    ...section("Log", run.log, "Nothing was logged through ctx.logger."),
  );
}

/** Open the dialog on the run `runId` of the job `jobId`. */
export async function showRun(jobId, runId) {
  shown = runId;
  document.getElementById("run-detail-title").textContent = "Run";
  body.replaceChildren(el("p", { role: "status" }, "Loading…"));
  if (!dialog.open) dialog.showModal();
  try {
    const { run } = await api(`/api/cron/jobs/${jobId}/runs/${runId}`);
    if (shown === runId) render(run);
  } catch (error) {
    if (shown === runId) body.replaceChildren(el("p", { class: "error-text" }, `Could not load the run: ${error.message}`));
  }
}

dialog.addEventListener("close", () => (shown = null));
