// The jobs page. Every job the user may see is loaded from the API, 500 per request; search,
// filters and sorting then work on that list here, and the table shows one page of it, so a
// few thousand jobs stay quick. Only the shown page asks for its jobs' latest runs.

import { api, fetchAll } from "./api.js";
import { activityCharts, chartWidth, outcomeStrip } from "./charts.js";
import { cell, duration, el, flash, statusBadge, timeElement } from "./format.js";
import { startPage } from "./session.js";

const PAGE_SIZE = 50;

const me = await startPage();

const body = document.getElementById("jobs-body");
const count = document.getElementById("job-count");
const filters = document.getElementById("filters");
const tenantNames = new Map(me.tenant_id ? [[me.tenant_id, me.tenant_name]] : []);
const descriptions = new Map(); // schedule -> Promise of its description
let jobs = [];
let latestRuns = {};
let recentRuns = {}; // job id -> its last STRIP_RUNS runs, oldest first, for the shown page
const STRIP_RUNS = 20;

// The view (search, filters, sort, page) lives in the address, so reload and Back keep it.
const params = new URLSearchParams(window.location.search);
const view = {
  q: params.get("q") || "",
  tenant: params.get("tenant") || "",
  active: params.get("active") || "",
  outcome: params.get("outcome") || "",
  sort: params.get("sort") || "name",
  dir: params.get("dir") === "desc" ? "desc" : "asc",
  page: Math.max(0, Number(params.get("page") || 1) - 1) || 0,
};

function saveView() {
  const query = new URLSearchParams();
  for (const key of ["q", "tenant", "active", "outcome"]) if (view[key]) query.set(key, view[key]);
  if (view.sort !== "name" || view.dir !== "asc") query.set("sort", view.sort);
  if (view.dir === "desc") query.set("dir", "desc");
  if (view.page) query.set("page", view.page + 1);
  const search = query.toString();
  history.replaceState(null, "", search ? `?${search}` : window.location.pathname);
}

// What the last run that ran did (the server keeps it on the job): the filter's "failed"
// takes every run that did not succeed.
function outcome(job) {
  if (!job.last_status) return "never";
  return ["succeeded", "running"].includes(job.last_status) ? job.last_status : "failed";
}

const errorCount = (job) => Number(job.metadata?.error_count) || 0;
const tenantLabel = (job) =>
  job.tenant_id ? tenantNames.get(job.tenant_id) || job.tenant_id : "Global";
const instant = (iso, missing) => (iso ? Date.parse(iso) : missing);

const SORT_KEYS = {
  name: (job) => job.name.toLowerCase(),
  tenant: (job) => tenantLabel(job).toLowerCase(),
  schedule: (job) => job.schedule,
  timezone: (job) => job.timezone,
  function: (job) => job.function_name || "",
  active: (job) => (job.is_active ? 0 : 1),
  last_run: (job) => instant(job.last_run, 0),
  next_run: (job) => (job.is_active ? instant(job.next_run, Infinity) : Infinity),
  errors: errorCount,
};

function compare(a, b) {
  const key = SORT_KEYS[view.sort] || SORT_KEYS.name;
  const [x, y] = [key(a), key(b)];
  const order = typeof x === "string" ? x.localeCompare(y) : x - y;
  return (view.dir === "desc" ? -order : order) || a.name.localeCompare(b.name);
}

function matches(job) {
  const q = view.q.trim().toLowerCase();
  if (q && !job.name.toLowerCase().includes(q)) return false;
  if (view.tenant === "global" && job.tenant_id !== null) return false;
  if (view.tenant && view.tenant !== "global" && job.tenant_id !== view.tenant) return false;
  if (view.active && String(job.is_active) !== view.active) return false;
  return !view.outcome || outcome(job) === view.outcome;
}

function describeSchedule(schedule) {
  if (!descriptions.has(schedule)) {
    const request = api("/api/cron/schedules/preview", {
      method: "POST",
      body: { schedule, count: 1 },
    });
    descriptions.set(
      schedule,
      request.then((data) => data.description).catch(() => "not a valid schedule"),
    );
  }
  return descriptions.get(schedule);
}

// The last run that ran (not a missed or pending row), how long it took when the newest row
// of the history is that run, and the slots missed since.
function lastRun(job) {
  const missed = job.missed_since_last_run
    ? [el("br"), el("span", { class: "muted" }, `${job.missed_since_last_run} missed since`)]
    : [];
  if (!job.last_status) return [el("span", { class: "muted" }, "never run"), ...missed];
  const run = latestRuns[job.id];
  const same = run?.started_at && Date.parse(run.started_at) === Date.parse(job.last_run);
  const took = same ? ` · ${duration(run.duration_ms)}` : "";
  return [statusBadge(job.last_status), " ", timeElement(job.last_run), took, ...missed];
}

// "after A, B": the jobs it runs after (names of the jobs this page loaded).
function upstreams(job) {
  if (!job.depends_on?.length) return [];
  const names = job.depends_on.map(({ job_id: id }) => jobs.find((j) => j.id === id)?.name || id);
  const joined = names.join(job.wait_for === "all" ? " and " : ", ");
  return [el("br"), el("span", { class: "description upstreams" }, `after ${joined}`)];
}

function nextRun(job) {
  if (!job.is_active) return [el("span", { class: "muted" }, "paused")];
  if (job.schedule === "on_demand") return [el("span", { class: "muted" }, "on demand")];
  return [timeElement(job.next_run)];
}

function strip(job) {
  const runs = recentRuns[job.id];
  if (runs === undefined) return el("span", { class: "muted" }, "…");
  if (!runs.length) return el("span", { class: "muted" }, "none");
  return outcomeStrip(runs, STRIP_RUNS);
}

function row(job) {
  const description = el("span", { class: "description" });
  describeSchedule(job.schedule).then((text) => (description.textContent = text));
  const toggle = el("input", {
    type: "checkbox",
    role: "switch",
    "aria-label": `Active: ${job.name}`,
    checked: job.is_active,
  });
  toggle.addEventListener("change", () => setActive(job, toggle.checked));
  return el(
    "tr",
    { dataset: { jobId: job.id } },
    el("th", { scope: "row", dataset: { label: "Name" } }, el("a", { href: `/jobs/${job.id}` }, job.name)),
    cell("Tenant", tenantLabel(job)),
    cell("Schedule", el("code", {}, job.schedule), el("br"), description, ...upstreams(job)),
    cell("Time zone", job.timezone),
    cell("Function", el("code", {}, job.function_name || "—")),
    cell("Active", el("label", { class: "switch" }, toggle, job.is_active ? " Active" : " Paused")),
    cell("Last run", ...lastRun(job)),
    cell("Recent runs", strip(job)),
    cell("Next run", ...nextRun(job)),
    cell("Errors", String(errorCount(job))),
  );
}

// Re-rendering must not throw the keyboard user out of the table: put focus back where it was.
function keepingFocus(render) {
  const focused = document.activeElement;
  const jobId = body.contains(focused) ? focused.closest("tr")?.dataset.jobId : null;
  const kind = focused?.matches?.("input") ? "input" : "a";
  render();
  if (jobId) body.querySelector(`tr[data-job-id="${jobId}"] ${kind}`)?.focus();
}

function renderTable() {
  const shown = jobs.filter(matches).sort(compare);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  view.page = Math.min(view.page, pages - 1);
  const first = view.page * PAGE_SIZE;
  const pageJobs = shown.slice(first, first + PAGE_SIZE);
  keepingFocus(() => body.replaceChildren(...pageJobs.map(row)));

  const total = jobs.length.toLocaleString();
  count.textContent =
    shown.length === jobs.length
      ? `${total} job${jobs.length === 1 ? "" : "s"}`
      : `${shown.length.toLocaleString()} of ${total} jobs match`;
  const empty = document.getElementById("jobs-empty");
  empty.hidden = shown.length > 0;
  empty.textContent = jobs.length ? "No job matches these filters." : "No jobs yet: create one.";
  document.getElementById("page-info").textContent = shown.length
    ? `${first + 1}–${first + pageJobs.length} of ${shown.length.toLocaleString()}, page ${view.page + 1} of ${pages}`
    : "";
  document.getElementById("page-prev").disabled = view.page === 0;
  document.getElementById("page-next").disabled = view.page >= pages - 1;
  for (const th of document.querySelectorAll("th[data-sort]")) {
    const sorted = th.dataset.sort === view.sort;
    th.setAttribute("aria-sort", sorted ? (view.dir === "asc" ? "ascending" : "descending") : "none");
  }
  saveView();
  loadLatestRuns(pageJobs);
  loadStrips(pageJobs);
}

// One request for the shown page's strips, read in one query.
async function loadStrips(pageJobs) {
  if (!pageJobs.length) return;
  const query = pageJobs.map((job) => `job_id=${job.id}`).join("&");
  let runs;
  try {
    ({ runs } = await api(`/api/cron/runs/recent?${query}&limit=${STRIP_RUNS}`));
  } catch {
    return; // the strips stay blank; the last run is still shown
  }
  for (const job of pageJobs) recentRuns[job.id] = runs[job.id] || [];
  keepingFocus(() => {
    for (const job of pageJobs) {
      const tr = body.querySelector(`tr[data-job-id="${job.id}"]`);
      tr?.querySelector('[data-label="Recent runs"] .cell').replaceChildren(strip(job));
    }
  });
}

// The last hour, minute by minute: two charts side by side, or stacked on a narrow screen.
async function loadActivity() {
  const box = document.getElementById("activity-charts");
  const status = document.getElementById("activity-status");
  let minutes;
  try {
    ({ minutes } = await api("/api/cron/runs/activity"));
  } catch (error) {
    status.textContent = `Could not load the last hour: ${error.message}`;
    return;
  }
  status.textContent = "";
  box.replaceChildren(...activityCharts(minutes, chartWidth(box)));
}

async function loadLatestRuns(pageJobs) {
  if (!pageJobs.length) return;
  const query = pageJobs.map((job) => `job_id=${job.id}`).join("&");
  try {
    const data = await api(`/api/cron/runs/latest?${query}`);
    Object.assign(latestRuns, data.runs);
  } catch {
    return; // the table already shows the outcome from the jobs' metadata
  }
  keepingFocus(() => {
    for (const job of pageJobs) {
      const tr = body.querySelector(`tr[data-job-id="${job.id}"]`);
      tr?.querySelector('[data-label="Last run"] .cell').replaceChildren(...lastRun(job));
    }
  });
}

async function setActive(job, active) {
  try {
    const data = await api(`/api/cron/jobs/${job.id}`, { method: "PUT", body: { is_active: active } });
    Object.assign(job, data.job);
    flash(`“${job.name}” is ${job.is_active ? "active" : "paused"}.`);
  } catch (error) {
    flash(`Could not change “${job.name}”: ${error.message}`);
  }
  renderTable();
}

async function loadJobs() {
  loadActivity();
  try {
    const loaded = await fetchAll("/api/cron/jobs", "jobs", (n) => {
      if (!jobs.length) count.textContent = `Loading jobs… ${n.toLocaleString()}`;
    });
    jobs = loaded;
    latestRuns = {};
    recentRuns = {};
    renderTable();
  } catch (error) {
    count.textContent = `Could not load the jobs: ${error.message}`;
  }
}

async function loadTenants() {
  if (me.role !== "superadmin") return;
  const { tenants } = await api("/api/cron/tenants");
  const select = document.getElementById("filter-tenant");
  for (const tenant of tenants) {
    tenantNames.set(tenant.id, tenant.name);
    select.append(el("option", { value: tenant.id }, tenant.name));
  }
  document.getElementById("filter-tenant-field").hidden = false;
}

function bindControls() {
  for (const [name, input] of Object.entries({
    q: "filter-q",
    tenant: "filter-tenant",
    active: "filter-active",
    outcome: "filter-outcome",
  })) {
    const control = document.getElementById(input);
    control.value = view[name];
    control.addEventListener("input", () => {
      view[name] = control.value;
      view.page = 0;
      renderTable();
    });
  }
  filters.addEventListener("submit", (event) => event.preventDefault());
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      view.dir = view.sort === th.dataset.sort && view.dir === "asc" ? "desc" : "asc";
      view.sort = th.dataset.sort;
      renderTable();
    });
  }
  document.getElementById("page-prev").addEventListener("click", () => turnPage(-1));
  document.getElementById("page-next").addEventListener("click", () => turnPage(1));
  document.getElementById("refresh").addEventListener("click", loadJobs);
  window.addEventListener("cronbase:heartbeat", loadJobs);
}

function turnPage(step) {
  view.page += step;
  renderTable();
  document.getElementById("job-count").scrollIntoView({ block: "nearest" });
}

await loadTenants().catch((error) => flash(`Could not load the tenants: ${error.message}`));
bindControls();
await loadJobs();
// Keep "in 4 minutes" and the last runs current on a page left open all day; with thousands
// of jobs, less often, as each refresh loads them all.
setInterval(loadJobs, jobs.length > 2000 ? 300000 : 60000);
