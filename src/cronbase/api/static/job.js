// One job: its settings, its run history (newest first, a page at a time), and the actions.

import { api } from "./api.js";
import { loadAudit, startAudit } from "./audit.js";
import { chartWidth, runCharts } from "./charts.js";
import { alertState, covering, maintenanceWindows } from "./job_alerts.js";
import {
  absoluteTime,
  cell,
  duration,
  el,
  flash,
  flashNext,
  statusBadge,
  timeElement,
  withLocalTimes,
} from "./format.js";
import { Pages, rowRange } from "./pager.js";
import { showRun } from "./run_detail.js";
import { startBackfillForm } from "./backfill.js";
import { pageNotice, startPage } from "./session.js";
import { loadWhy } from "./why.js";

const RUNS_PER_PAGE = 20;
const MONITORING_KEYS = ["last_execution", "execution_count", "last_error", "error_count"];

const me = await startPage();
const jobId = document.getElementById("job").dataset.jobId;
const runsBody = document.getElementById("runs-body");
const runsStatus = document.getElementById("runs-status");
const toggleButton = document.getElementById("toggle-active");
const runNowButton = document.getElementById("run-now");
const deleteDialog = document.getElementById("confirm-delete");
let job = null;
const tenantNames = new Map(me.tenant_id ? [[me.tenant_id, me.tenant_name]] : []);
const runPages = new Pages(); // by the API's cursors, as `status` filters them
let nextRunsCursor = null;
let refreshTimer = null;
let runsWereBusy = false;
let linked = { upstream: [], downstream: [] }; // GET /api/cron/jobs/{id}/dependencies
let windows = []; // the maintenance windows that cover the job

function detail(term, ...value) {
  return [el("dt", {}, term), el("dd", {}, ...value)];
}

function ownMetadata(metadata) {
  const own = { ...metadata };
  for (const key of MONITORING_KEYS) delete own[key];
  return own;
}

async function renderJob() {
  document.title = `${job.name} · cronbase`;
  document.getElementById("job-name").textContent = job.name;
  const state = document.getElementById("job-state");
  state.textContent = job.is_active ? "Active" : "Paused";
  state.className = `badge ${job.is_active ? "status-succeeded" : "status-paused"}`;
  toggleButton.textContent = job.is_active ? "Pause" : "Resume";
  const metadata = job.metadata || {};
  const description = el("span", { class: "description" });
  document.getElementById("job-details").replaceChildren(
    ...detail("Schedule", el("code", {}, job.schedule), " ", description),
    ...detail("Time zone", job.timezone),
    ...detail("Function", el("code", {}, job.function_name || "—")),
    ...detail("Tenant", job.tenant_id ? tenantNames.get(job.tenant_id) || job.tenant_id : "Global (every tenant)"),
    ...detail("Next run", job.is_active ? nextRun() : "paused"),
    ...detail("Last run", ...lastRun()),
    ...detail("Runs / errors", `${metadata.execution_count || 0} / ${metadata.error_count || 0}`),
    ...(metadata.last_error ? detail("Last error", el("span", { class: "error-text" }, withLocalTimes(metadata.last_error))) : []),
    ...detail("Priority, timeout", `${job.priority}, ${job.timeout_seconds ? `${job.timeout_seconds} s` : "none"}`),
    ...detail("Missed, overlapping slots", `${job.misfire_policy}, ${job.overlap_policy}`),
    ...detail("Attempts, isolation", `${job.max_attempts} (retry after ${job.retry_delay_seconds} s), ${job.isolation}`),
    ...detail("History kept", job.keep_runs ? `the newest ${job.keep_runs} runs whatever their age, older ones by the retention` : "by the retention's age limit"),
    ...detail("Alerts", ...alertState(job, windows, alertsChanged)),
    ...detail("Metadata", el("pre", {}, JSON.stringify(ownMetadata(metadata), null, 2))),
    ...detail("Runs after", ...linkedJobs(linked.upstream, job.wait_for === "all" ? "all of them, for the same scheduled time" : null)),
    ...detail("Runs before", ...linkedJobs(linked.downstream, null)),
  );
  api("/api/cron/schedules/preview", {
    method: "POST",
    body: { schedule: job.schedule, count: 1 }, // the zone has its own line
  })
    .then((data) => (description.textContent = `(${data.description})`))
    .catch(() => {});
}

async function alertsChanged(changed) {
  job = changed;
  await renderJob();
  await loadAudit();
}

// Links to the jobs it runs after (or before), nearest first, with each edge's condition.
function linkedJobs(jobs, note) {
  if (!jobs.length) return [el("span", { class: "muted" }, "no job")];
  const items = jobs.map((linkedJob) =>
    el(
      "li",
      { dataset: { depth: linkedJob.depth } },
      el("a", { href: `/jobs/${linkedJob.id}` }, linkedJob.name),
      ` (on ${linkedJob.on}${linkedJob.depth > 1 ? `, ${linkedJob.depth} steps away` : ""})`,
    ),
  );
  return [el("ul", { class: "linked-jobs" }, ...items), ...(note ? [el("span", { class: "muted" }, `waits for ${note}`)] : [])];
}

// The last run that ran, whatever started it, and the slots missed since (kept on the job).
function lastRun() {
  if (!job.last_status) return ["never run"];
  const missed = job.missed_since_last_run ? `, ${job.missed_since_last_run} slot(s) missed since` : "";
  return [statusBadge(job.last_status), " ", timeElement(job.last_run), missed];
}

function nextRun() {
  if (!job.next_run) return "—";
  return el("span", {}, timeElement(job.next_run), ` (${absoluteTime(job.next_run)})`);
}

function outcomeCell(run) {
  // A result is the job's own data and shows as it is; an error is text for people.
  const text = run.error ? withLocalTimes(run.error) : run.result ? JSON.stringify(run.result) : "";
  if (!text) return el("span", { class: "muted" }, "—");
  const kind = run.error ? "error-text" : "result";
  if (text.length <= 80) return el("code", { class: kind }, text);
  // A long result or traceback folds away; the whole of it is one click (or Enter) away.
  return el(
    "details",
    {},
    el("summary", { class: kind }, `${text.slice(0, 77)}…`),
    el("pre", { class: kind }, text),
  );
}

// A pending run has not started; a retry waits for its backoff (run_after) first.
function started(run) {
  if (run.started_at || !run.run_after) return timeElement(run.started_at, { relativeText: false });
  return el("span", {}, "not before ", timeElement(run.run_after, { relativeText: false }));
}

// Which upstream run(s) started a dependency run, as links to their jobs.
function startedBy(run) {
  if (!run.upstream?.length) return [];
  const links = run.upstream.flatMap((up, index) => [
    ...(index ? [", "] : []),
    el("a", { href: `/jobs/${up.job_id}`, title: `run ${up.run_id}` }, up.job_name),
  ]);
  return [el("br"), el("span", { class: "upstream-run" }, "after ", ...links)];
}

function runRow(run) {
  return el(
    "tr",
    { dataset: { runId: run.id, status: run.status } },
    cell("Status", statusBadge(run.status)),
    cell("Scheduled for", timeElement(run.scheduled_for, { relativeText: false })),
    cell("Started", started(run)),
    cell("Duration", duration(run.duration_ms)),
    cell("Result or error", outcomeCell(run)),
    cell("Attempt", String(run.attempt)),
    cell("Worker", run.worker_id || "—"),
    cell("Trigger", run.trigger, ...startedBy(run)),
    cell("Log", logButton(run)),
  );
}

// The log and traceback can be large, so the history leaves them out; a button fetches them.
function logButton(run) {
  if (run.status === "pending" || run.status === "running") return el("span", { class: "muted" }, "—");
  const when = absoluteTime(run.scheduled_for);
  const button = el("button", { type: "button", "aria-label": `Log of the run of ${when}, attempt ${run.attempt}` }, "View");
  button.addEventListener("click", () => showRun(jobId, run.id));
  return button;
}

async function loadRuns() {
  clearTimeout(refreshTimer);
  let data;
  try {
    const query = new URLSearchParams({ limit: String(RUNS_PER_PAGE) });
    if (runsStatus.value) query.set("status", runsStatus.value);
    if (runPages.cursor) query.set("cursor", runPages.cursor);
    data = await api(`/api/cron/jobs/${jobId}/runs?${query}`);
  } catch (error) {
    document.getElementById("history-status").textContent = `Could not load the runs: ${error.message}`;
    refreshTimer = setTimeout(loadRuns, 30000);
    return;
  }
  runsBody.replaceChildren(...data.runs.map(runRow));
  const status = runsStatus.selectedOptions[0].textContent.toLowerCase();
  document.getElementById("history-status").textContent = data.runs.length
    ? ""
    : runPages.number > 1 ? "No older runs." : runsStatus.value ? `No ${status} runs.` : "No runs yet.";
  document.getElementById("runs-page-info").textContent = data.runs.length
    ? `Runs ${rowRange(runPages, RUNS_PER_PAGE, data.runs.length)}`
    : "";
  nextRunsCursor = data.pagination.next_cursor;
  document.getElementById("runs-newer").disabled = runPages.number === 1;
  document.getElementById("runs-older").disabled = nextRunsCursor === null;
  // A run waiting or going on will end soon: look again shortly to show how it ended.
  const busy = data.runs.some((run) => run.status === "pending" || run.status === "running");
  // A run just ended: the job (its counts, last and next run) was read before it was
  // recorded, so read it again.
  if (runsWereBusy && !busy) await loadJob();
  runsWereBusy = busy;
  refreshTimer = setTimeout(refreshAll, busy ? 2000 : 30000);
}

async function loadJob() {
  try {
    let allWindows;
    [job, linked, allWindows] = await Promise.all([
      api(`/api/cron/jobs/${jobId}`).then((data) => data.job),
      api(`/api/cron/jobs/${jobId}/dependencies`),
      maintenanceWindows(),
    ]);
    windows = covering(allWindows, job);
  } catch (error) {
    if (error.status === 404) {
      return pageNotice("This job does not exist, or it belongs to a tenant you cannot see.", true);
    }
    flash(`Could not load the job: ${error.message}`);
    return;
  }
  await renderJob();
}

// The chart of the last CHART_RUNS runs: duration and start lag, failures marked.
const CHART_RUNS = 100;

async function loadCharts() {
  const box = document.getElementById("run-charts");
  const status = document.getElementById("charts-status");
  let runs;
  try {
    ({ runs } = await api(`/api/cron/runs/recent?job_id=${jobId}&limit=${CHART_RUNS}`));
  } catch (error) {
    status.textContent = `Could not load the chart: ${error.message}`;
    return;
  }
  const recent = runs[jobId] || [];
  status.textContent = recent.length ? "" : "No runs to chart yet.";
  box.replaceChildren(...(recent.length ? runCharts(recent, chartWidth(box)) : []));
}

async function refreshAll() {
  await loadJob();
  await loadWhy(jobId);
  await loadRuns();
  await loadCharts();
  await loadAudit();
}

async function act(button, action) {
  button.disabled = true;
  try {
    await action();
  } catch (error) {
    flash(`Could not do that: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

runNowButton.addEventListener("click", () =>
  act(runNowButton, async () => {
    await api(`/api/cron/jobs/${jobId}/run`, { method: "POST" });
    flash(`Queued a run of “${job.name}”.`);
    // Where no worker runs (an API-only deployment) nothing would pick the run up until the
    // next heartbeat, minutes away: "run now" means now, so run the due jobs from here.
    const { worker_running: workerRunning } = await api("/api/cron/workers");
    if (!workerRunning) await api("/api/cron/run", { method: "POST" });
    runPages.restart();
    runsWereBusy = true; // a run was queued: read the job again once the history shows it ended
    await refreshAll();
  }),
);

toggleButton.addEventListener("click", () =>
  act(toggleButton, async () => {
    const data = await api(`/api/cron/jobs/${jobId}`, {
      method: "PUT",
      body: { is_active: !job.is_active },
    });
    job = data.job;
    flash(job.is_active ? `Resumed “${job.name}”.` : `Paused “${job.name}”: it will not run on its schedule.`);
    await renderJob();
    await loadWhy(jobId);
    await loadAudit();
  }),
);

document.getElementById("delete").addEventListener("click", () => {
  const dependents = linked.downstream.filter((d) => d.depth === 1).map((d) => `“${d.name}”`);
  document.getElementById("confirm-delete-text").textContent =
    `“${job.name}” and its whole run history will be deleted. This cannot be undone.` +
    (dependents.length ? ` ${dependents.join(", ")} will no longer run after it.` : "");
  deleteDialog.returnValue = "";
  deleteDialog.showModal();
});

deleteDialog.addEventListener("close", async () => {
  if (deleteDialog.returnValue !== "delete") return;
  try {
    // The dialog named the jobs that run after it: deleting removes those edges (detach).
    await api(`/api/cron/jobs/${jobId}?detach=true`, { method: "DELETE" });
  } catch (error) {
    flash(`Could not delete “${job.name}”: ${error.message}`);
    return;
  }
  flashNext(`Deleted “${job.name}”.`);
  window.location.assign("/");
});

document.getElementById("runs-newer").addEventListener("click", () => {
  runPages.back();
  loadRuns();
});
document.getElementById("runs-older").addEventListener("click", () => {
  runPages.forward(nextRunsCursor);
  loadRuns();
});
runsStatus.addEventListener("change", () => {
  runPages.restart();
  loadRuns();
});
window.addEventListener("cronbase:heartbeat", refreshAll);

if (me.role === "superadmin") {
  api("/api/cron/tenants")
    .then(({ tenants }) => {
      for (const tenant of tenants) tenantNames.set(tenant.id, tenant.name);
      if (job) renderJob();
    })
    .catch(() => {});
}
startAudit(jobId);
startBackfillForm(jobId, () => {
  runPages.restart();
  runsWereBusy = true;
  refreshAll();
});
await refreshAll();
