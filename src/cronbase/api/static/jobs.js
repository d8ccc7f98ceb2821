// The jobs page. The server searches, filters, sorts and pages (GET /api/cron/jobs with q,
// the filters, sort and a cursor): the page asks for one page of PAGE_SIZE jobs at a time,
// however many there are, and only that page's latest runs and strips. The view (search,
// filters, sort, page) lives in the address: see jobs_view.js.

import { api } from "./api.js";
import { activityCharts, chartWidth, outcomeStrip } from "./charts.js";
import { cell, duration, el, flash, statusBadge, timeElement } from "./format.js";
import { jobName } from "./job_picker.js";
import { FILTER_NAMES, JobsView, PAGE_SIZE } from "./jobs_view.js";
import { rowRange } from "./pager.js";
import { startPage } from "./session.js";

const STRIP_RUNS = 20;
const SEARCH_DELAY_MS = 300;
const CONTROLS = {
  q: "filter-q",
  tenant: "filter-tenant",
  is_active: "filter-active",
  last_status: "filter-status",
  function_name: "filter-function",
};

const me = await startPage();

const body = document.getElementById("jobs-body");
const count = document.getElementById("job-count");
const tenantNames = new Map(me.tenant_id ? [[me.tenant_id, me.tenant_name]] : []);
const jobNames = new Map(); // job id -> name, of the jobs loaded, for "after A, B"
const descriptions = new Map(); // schedule -> Promise of its description
let jobs = []; // the shown page
let latestRuns = {};
let recentRuns = {}; // job id -> its last STRIP_RUNS runs, oldest first, for the shown page
let nextCursor = null; // the shown page's, for Next
let loading = 0; // the number of the latest request: an older, slower answer must not win

let view = new JobsView(); // what the address asks for

const errorCount = (job) => Number(job.metadata?.error_count) || 0;
const tenantLabel = (job) =>
  job.tenant_id ? tenantNames.get(job.tenant_id) || job.tenant_id : "Global";

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

// "after A, B": the jobs it runs after, by name (an upstream on no page loaded yet is read).
function upstreams(job) {
  if (!job.depends_on?.length) return [];
  const text = el("span", { class: "description upstreams" });
  const glue = job.wait_for === "all" ? " and " : ", ";
  Promise.all(job.depends_on.map(({ job_id: id }) => upstreamName(id))).then((names) => {
    text.textContent = `after ${names.join(glue)}`;
  });
  return [el("br"), text];
}

const upstreamName = (id) => (jobNames.has(id) ? jobNames.get(id) : jobName(id));

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

// How many: exact while they all fit on the first page, else which rows this page holds (the
// server counts nothing, so that a page of 100,000 jobs costs what a page of 50 does).
function countText() {
  const { pages, search } = view;
  if (pages.number === 1 && !nextCursor) {
    const jobsText = `${jobs.length} job${jobs.length === 1 ? "" : "s"}`;
    if (!view.filtered) return jobsText;
    return `${jobsText} match${jobs.length === 1 ? "es" : ""}${search ? ` “${search}”` : " these filters"}`;
  }
  const matching = search ? ` matching “${search}”` : "";
  if (!pages.known) return `Jobs${matching}, a later page`;
  const more = nextCursor ? ", more on the next page" : ", the last";
  return `Jobs${matching} ${rowRange(pages, PAGE_SIZE, jobs.length)}${more}`;
}

function emptyText() {
  if (view.pages.number > 1) return "No more jobs.";
  if (!view.filtered) return "No jobs yet: create one.";
  const others = view.filteredBesidesSearch ? " with these filters" : "";
  if (view.search) return `No jobs match “${view.search}”${others}.`;
  return "No job matches these filters.";
}

function renderTable() {
  const { pages } = view;
  keepingFocus(() => body.replaceChildren(...jobs.map(row)));
  count.textContent = countText();
  document.getElementById("jobs-empty").hidden = jobs.length > 0;
  document.getElementById("jobs-empty-text").textContent = emptyText();
  document.getElementById("clear-filters").hidden = !view.filtered;
  document.getElementById("page-info").textContent = !jobs.length
    ? ""
    : pages.known
      ? `Page ${pages.number}, jobs ${rowRange(pages, PAGE_SIZE, jobs.length)}`
      : "A later page";
  const previous = document.getElementById("page-prev");
  previous.disabled = pages.number === 1;
  previous.textContent = pages.known ? "Previous page" : "First page";
  document.getElementById("page-next").disabled = nextCursor === null;
  const descending = view.sort.startsWith("-");
  const sorted = descending ? view.sort.slice(1) : view.sort;
  for (const th of document.querySelectorAll("th[data-sort]")) {
    const order = descending ? "descending" : "ascending";
    th.setAttribute("aria-sort", th.dataset.sort === sorted ? order : "none");
  }
}

/** Load the view's page of jobs (`change`: what changed, for the history; null: nothing). */
async function loadJobs(change = null) {
  view.save(change);
  const number = ++loading;
  let data;
  try {
    data = await api(`/api/cron/jobs?${view.apiQuery()}`);
  } catch (error) {
    if (number !== loading) return;
    if (error.status === 422 && view.forget(error.errors.map((e) => e.field))) {
      flash(`Part of the address was left out: ${error.message}`);
      showView();
      return loadJobs(null);
    }
    count.textContent = `Could not load the jobs: ${error.message}`;
    return;
  }
  if (number !== loading) return;
  jobs = data.jobs;
  nextCursor = data.pagination.next_cursor;
  for (const job of jobs) jobNames.set(job.id, job.name);
  latestRuns = {};
  recentRuns = {};
  renderTable();
  loadLatestRuns(jobs);
  loadStrips(jobs);
}

function refresh() {
  loadActivity();
  return loadJobs();
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
  if (pageJobs !== jobs) return;
  for (const job of pageJobs) recentRuns[job.id] = runs[job.id] || [];
  keepingFocus(() => {
    for (const job of pageJobs) {
      const tr = body.querySelector(`tr[data-job-id="${job.id}"]`);
      tr?.querySelector('[data-label="Recent runs"] .cell').replaceChildren(strip(job));
    }
  });
}

async function loadLatestRuns(pageJobs) {
  if (!pageJobs.length) return;
  const query = pageJobs.map((job) => `job_id=${job.id}`).join("&");
  try {
    const data = await api(`/api/cron/runs/latest?${query}`);
    if (pageJobs !== jobs) return;
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

async function setActive(job, active) {
  try {
    const data = await api(`/api/cron/jobs/${job.id}`, { method: "PUT", body: { is_active: active } });
    Object.assign(job, data.job);
    flash(`“${job.name}” is ${job.is_active ? "active" : "paused"}.`);
  } catch (error) {
    flash(`Could not change “${job.name}”: ${error.message}`);
  }
  // The page again: the job may have left it (paused, under "Active only") or moved.
  await loadJobs();
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

async function loadFunctions() {
  const { functions } = await api("/api/cron/functions");
  const select = document.getElementById("filter-function");
  for (const fn of functions) select.append(el("option", { value: fn.name }, fn.name));
}

// The controls show the view; a value the address names that no option has (a function no
// longer registered, say) gets an option of its own, so what is filtered stays visible.
function showView() {
  for (const [name, id] of Object.entries(CONTROLS)) {
    const control = document.getElementById(id);
    const value = view.filters[name];
    if (control.tagName === "SELECT" && value && ![...control.options].some((o) => o.value === value)) {
      control.append(el("option", { value }, value));
    }
    control.value = value;
  }
}

function bindFilters() {
  let searchTimer = null;
  for (const name of FILTER_NAMES) {
    const control = document.getElementById(CONTROLS[name]);
    control.addEventListener("input", () => {
      clearTimeout(searchTimer);
      const apply = () => {
        if (view.filters[name] === control.value) return;
        view.filters[name] = control.value;
        view.pages.restart();
        loadJobs(name);
      };
      // The search waits for a pause in the typing: one request, not one per key.
      if (name === "q") searchTimer = setTimeout(apply, SEARCH_DELAY_MS);
      else apply();
    });
  }
  document.getElementById("filters").addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("clear-filters").addEventListener("click", () => {
    view.clear();
    showView();
    loadJobs("clear");
    document.getElementById("filter-q").focus();
  });
}

function bindControls() {
  bindFilters();
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      // A second click on the sorted column reverses it.
      view.sort = view.sort === th.dataset.sort ? `-${th.dataset.sort}` : th.dataset.sort;
      view.pages.restart();
      loadJobs("sort");
    });
  }
  document.getElementById("page-prev").addEventListener("click", () => {
    view.pages.back();
    turnedPage();
  });
  document.getElementById("page-next").addEventListener("click", () => {
    if (nextCursor === null) return; // taken by a click whose page is still loading
    view.pages.forward(nextCursor);
    nextCursor = null;
    turnedPage();
  });
  document.getElementById("refresh").addEventListener("click", refresh);
  window.addEventListener("cronbase:heartbeat", refresh);
  window.addEventListener("popstate", () => {
    view = JobsView.returnedTo();
    showView();
    loadJobs();
  });
}

async function turnedPage() {
  await loadJobs("page");
  count.scrollIntoView({ block: "nearest" });
}

await Promise.all([
  loadTenants().catch((error) => flash(`Could not load the tenants: ${error.message}`)),
  loadFunctions().catch(() => {}), // the filter then offers "Any function" alone
]);
showView();
bindControls();
await refresh();
// Keep "in 4 minutes" and the last runs current on a page left open all day: one page of
// jobs a minute, however many there are.
setInterval(refresh, 60000);
