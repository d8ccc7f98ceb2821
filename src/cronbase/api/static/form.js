// Creating and editing a job. The schedule is checked as it is typed (the preview endpoint
// says what it means and when it fires next); errors the server finds appear at their field,
// and nothing typed is lost: the form is only left once the job is saved.

import { api } from "./api.js";
import { absoluteTime, el, flashNext } from "./format.js";
import { startPage } from "./session.js";

const MONITORING_KEYS = ["last_execution", "execution_count", "last_error", "error_count"];
const FIELDS = [
  "name",
  "tenant_id",
  "function_name",
  "schedule",
  "timezone",
  "is_active",
  "metadata",
  "priority",
  "timeout_seconds",
  "misfire_policy",
  "catchup_window_seconds",
  "overlap_policy",
  "max_attempts",
  "retry_delay_seconds",
  "isolation",
];
const LABELS = { tenant_id: "Tenant", function_name: "Function", is_active: "Active" };

const me = await startPage();
const form = document.getElementById("job-form");
const jobId = form.dataset.jobId;
const input = Object.fromEntries(FIELDS.map((name) => [name, document.getElementById(name)]));
const preview = document.getElementById("schedule-preview");
const summary = document.getElementById("form-errors");
let previewTimer = null;
let previewNumber = 0;

function setError(field, message) {
  const node = document.getElementById(`${field}-error`);
  if (!node) return false;
  node.textContent = message;
  if (message) input[field].setAttribute("aria-invalid", "true");
  else input[field].removeAttribute("aria-invalid");
  return true;
}

function clearErrors() {
  for (const field of FIELDS) setError(field, "");
  summary.hidden = true;
  summary.replaceChildren();
}

/** Put each error at its field; list them all at the top too, and take focus there. */
function showErrors(errors, message) {
  const items = errors.map(({ field, message: text }) => {
    const shown = setError(field, text);
    if (shown && input[field].closest("details")) input[field].closest("details").open = true;
    const label = LABELS[field] || field.replace(/_/g, " ");
    const where = shown ? el("a", { href: `#${field}` }, label) : label;
    return el("li", {}, where, `: ${text}`);
  });
  summary.replaceChildren(el("p", {}, message), el("ul", {}, ...items));
  summary.hidden = false;
  summary.focus();
}

function showPreview(data) {
  const times = data.next_runs.map((iso) =>
    el("li", {}, el("time", { datetime: iso }, absoluteTime(iso))),
  );
  preview.replaceChildren(
    el("p", { class: "description" }, data.description),
    el("p", {}, `Next ${times.length} runs, in your time zone:`),
    el("ol", {}, ...times),
  );
}

async function runPreview() {
  const schedule = input.schedule.value.trim();
  const timezone = input.timezone.value.trim() || "UTC";
  const number = ++previewNumber;
  if (!schedule) {
    preview.replaceChildren();
    return;
  }
  try {
    const data = await api("/api/cron/schedules/preview", {
      method: "POST",
      body: { schedule, timezone, count: 5 },
    });
    if (number !== previewNumber) return; // a slower, older answer must not win
    setError("schedule", "");
    setError("timezone", "");
    showPreview(data);
  } catch (error) {
    if (number !== previewNumber) return;
    preview.replaceChildren();
    const errors = error.errors.length ? error.errors : [{ field: "schedule", message: error.message }];
    for (const { field, message } of errors) setError(field, message) || setError("schedule", message);
  }
}

function previewSoon() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(runPreview, 250);
}

function checkMetadata() {
  try {
    const value = JSON.parse(input.metadata.value || "{}");
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      setError("metadata", "must be a JSON object, such as {} or {\"retention_days\": 30}");
      return undefined;
    }
    setError("metadata", "");
    return value;
  } catch (error) {
    setError("metadata", `is not valid JSON: ${error.message}`);
    return undefined;
  }
}

// An empty number field means "none" (null); anything else must be a whole number.
function wholeNumber(field, empty) {
  const text = input[field].value.trim();
  if (!text) return empty;
  if (!/^-?\d+$/.test(text)) {
    setError(field, "must be a whole number");
    return undefined;
  }
  return Number(text);
}

function formBody() {
  const body = {
    name: input.name.value,
    function_name: input.function_name.value,
    schedule: input.schedule.value.trim(),
    timezone: input.timezone.value.trim(),
    is_active: input.is_active.checked,
    metadata: checkMetadata(),
    priority: wholeNumber("priority", 0),
    timeout_seconds: wholeNumber("timeout_seconds", null),
    misfire_policy: input.misfire_policy.value,
    catchup_window_seconds: wholeNumber("catchup_window_seconds", null),
    overlap_policy: input.overlap_policy.value,
    max_attempts: wholeNumber("max_attempts", 1),
    retry_delay_seconds: wholeNumber("retry_delay_seconds", 30),
    isolation: input.isolation.value,
  };
  if (me.role === "superadmin") body.tenant_id = input.tenant_id.value || null;
  if (!body.name.trim()) setError("name", "must not be blank");
  if (!body.function_name) setError("function_name", "choose a function");
  return fieldErrors().length ? null : body;
}

function fieldErrors() {
  return FIELDS.map((field) => ({
    field,
    message: document.getElementById(`${field}-error`)?.textContent,
  })).filter((error) => error.message);
}

async function save(event) {
  event.preventDefault();
  clearErrors();
  const body = formBody();
  if (!body) return showErrors(fieldErrors(), "The job was not saved: fix the fields marked below.");
  const button = document.getElementById("save");
  button.disabled = true;
  try {
    const path = jobId ? `/api/cron/jobs/${jobId}` : "/api/cron/jobs";
    const data = await api(path, { method: jobId ? "PUT" : "POST", body });
    flashNext(jobId ? `Saved “${data.job.name}”.` : `Created “${data.job.name}”.`);
    window.location.assign(`/jobs/${data.job.id}`);
  } catch (error) {
    const message = `The job was not saved: ${error.message}`;
    showErrors(error.errors.filter((e) => e.field !== "body"), message);
  } finally {
    button.disabled = false;
  }
}

function describeFunction() {
  const chosen = input.function_name.selectedOptions[0];
  document.getElementById("function_name-help").textContent = chosen?.dataset.description || "";
}

async function loadChoices() {
  const [{ functions }, tenants] = await Promise.all([
    api("/api/cron/functions"),
    me.role === "superadmin" ? api("/api/cron/tenants") : null,
  ]);
  for (const fn of functions) {
    const label = fn.description ? `${fn.name} — ${fn.description}` : fn.name;
    input.function_name.append(el("option", { value: fn.name, dataset: { description: fn.description } }, label));
  }
  if (tenants) {
    for (const tenant of tenants.tenants) input.tenant_id.append(el("option", { value: tenant.id }, tenant.name));
    document.getElementById("tenant-field").hidden = false;
  }
}

function fill(job) {
  document.getElementById("form-title").textContent = `Edit “${job.name}”`;
  document.title = `Edit ${job.name} · cronbase`;
  const own = { ...job.metadata };
  for (const key of MONITORING_KEYS) delete own[key];
  const values = { ...job, metadata: JSON.stringify(own, null, 2), tenant_id: job.tenant_id || "" };
  // A job may name a function no longer registered: keep it visible rather than lose it.
  if (job.function_name && ![...input.function_name.options].some((o) => o.value === job.function_name)) {
    input.function_name.append(el("option", { value: job.function_name }, `${job.function_name} (not registered)`));
  }
  for (const field of FIELDS) {
    if (field === "is_active") input.is_active.checked = job.is_active;
    else input[field].value = values[field] ?? "";
  }
}

input.schedule.addEventListener("input", previewSoon);
input.timezone.addEventListener("input", previewSoon);
input.metadata.addEventListener("input", checkMetadata);
input.function_name.addEventListener("change", describeFunction);
document.getElementById("use-my-zone").addEventListener("click", () => {
  input.timezone.value = Intl.DateTimeFormat().resolvedOptions().timeZone;
  previewSoon();
});
form.addEventListener("submit", save);

await loadChoices();
if (jobId) {
  try {
    fill((await api(`/api/cron/jobs/${jobId}`)).job);
  } catch (error) {
    showErrors([], `Could not load the job: ${error.message}`);
  }
}
describeFunction();
runPreview();
input.name.focus();
