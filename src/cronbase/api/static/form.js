// Creating and editing a job. The schedule is checked as it is typed (the preview endpoint
// says what it means and when it fires next); errors the server finds appear at their field,
// and nothing typed is lost: the form is only left once the job is saved. The chosen function's
// options (declared when it was registered) get fields of their own, written into the metadata;
// the JSON editor holds the other keys.

import { api } from "./api.js";
import { absoluteTime, el, flashNext } from "./format.js";
import { FormErrors } from "./form_errors.js";
import { startPage } from "./session.js";
import { fillUpstreams, loadUpstreamChoices, upstreamsValue } from "./upstreams.js";

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
  "jitter_seconds",
  "keep_runs",
  "wait_for",
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
const functions = {}; // name → {name, description, options}, from GET /api/cron/functions
let optionInputs = {}; // "metadata.<key>" → its input, for the chosen function's options

const allFields = () => [...FIELDS, ...Object.keys(optionInputs)];
const errors = new FormErrors(summary, { labels: LABELS });
const setError = (field, message) => errors.set(field, message);

function showPreview(data) {
  const times = data.next_runs.map((iso) =>
    el("li", {}, el("time", { datetime: iso }, absoluteTime(iso))),
  );
  const jitter = Number(input.jitter_seconds.value || 0);
  const offset = data.offset_seconds
    ? ` (${data.offset_seconds} s after each fire time: the job's jitter)`
    : !jobId && jitter > 0
      ? " (plus a fixed offset under the jitter, known once the job exists)"
      : "";
  preview.replaceChildren(
    el("p", { class: "description" }, data.description),
    el("p", {}, `Next ${times.length} runs, in your time zone${offset}:`),
    el("ol", {}, ...times),
  );
}

function jitterOf() {
  const jitter = Number(input.jitter_seconds.value || 0);
  if (!jobId || !Number.isInteger(jitter) || jitter < 0 || jitter > 3600) return {};
  return { job_id: jobId, jitter_seconds: jitter };
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
      // Editing, the job's id gives its jitter offset: the preview shows when it would run.
      body: { schedule, timezone, count: 5, ...jitterOf() },
    });
    if (number !== previewNumber) return; // a slower, older answer must not win
    setError("schedule", "");
    setError("timezone", "");
    showPreview(data);
  } catch (error) {
    if (number !== previewNumber) return;
    preview.replaceChildren();
    const problems = error.errors.length ? error.errors : [{ field: "schedule", message: error.message }];
    for (const { field, message } of problems) setError(field, message) || setError("schedule", message);
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
    metadata: withOptions(checkMetadata()),
    priority: wholeNumber("priority", 0),
    timeout_seconds: wholeNumber("timeout_seconds", null),
    misfire_policy: input.misfire_policy.value,
    catchup_window_seconds: wholeNumber("catchup_window_seconds", null),
    overlap_policy: input.overlap_policy.value,
    max_attempts: wholeNumber("max_attempts", 1),
    retry_delay_seconds: wholeNumber("retry_delay_seconds", 30),
    isolation: input.isolation.value,
    jitter_seconds: wholeNumber("jitter_seconds", 0),
    keep_runs: wholeNumber("keep_runs", null),
    depends_on: upstreamsValue(),
    wait_for: input.wait_for.value,
  };
  if (me.role === "superadmin") body.tenant_id = input.tenant_id.value || null;
  if (!body.name.trim()) setError("name", "must not be blank");
  if (!body.function_name) setError("function_name", "choose a function");
  return fieldErrors().length ? null : body;
}

function fieldErrors() {
  return allFields()
    .map((field) => ({ field, message: errors.get(field) }))
    .filter((error) => error.message);
}

async function save(event) {
  event.preventDefault();
  errors.clear();
  const body = formBody();
  if (!body) {
    // clear() took the schedule's problem, found as it was typed, away with the others: look
    // again, so that the summary lists everything to fix, not the browser's checks alone.
    await runPreview();
    return errors.show(fieldErrors(), "The job was not saved: fix the fields marked below.");
  }
  const button = document.getElementById("save");
  button.disabled = true;
  try {
    const path = jobId ? `/api/cron/jobs/${jobId}` : "/api/cron/jobs";
    const data = await api(path, { method: jobId ? "PUT" : "POST", body });
    flashNext(jobId ? `Saved “${data.job.name}”.` : `Created “${data.job.name}”.`);
    window.location.assign(`/jobs/${data.job.id}`);
  } catch (error) {
    const message = `The job was not saved: ${error.message}`;
    errors.show(error.errors.filter((e) => e.field !== "body"), message);
  } finally {
    button.disabled = false;
  }
}

function describeFunction() {
  const chosen = input.function_name.selectedOptions[0];
  document.getElementById("function_name-help").textContent = chosen?.dataset.description || "";
}

/** "a number ≥ 0", "an integer from 1 to 10000": what an option takes, for its help. */
function allowed(option) {
  if (option.choices) return `one of ${option.choices.join(", ")}`;
  const noun = { integer: "an integer", number: "a number" }[option.type] || `a ${option.type}`;
  const given = (bound) => bound !== null && bound !== undefined;
  const exclusive = given(option.exclusive_minimum) || given(option.exclusive_maximum);
  if (given(option.minimum) && given(option.maximum) && !exclusive) {
    const [low, high] = [option.minimum, option.maximum].map((n) => n.toLocaleString("en"));
    return `${noun} from ${low} to ${high}`;
  }
  const bounds = [
    [">", option.exclusive_minimum],
    ["≥", option.minimum],
    ["<", option.exclusive_maximum],
    ["≤", option.maximum],
  ].filter(([, bound]) => given(bound));
  return [noun, ...bounds.map(([sign, bound]) => `${sign} ${bound}`)].join(" ");
}

function optionField(option, value) {
  const id = `metadata.${option.name}`;
  const described = { id, name: id, "aria-describedby": `${id}-help ${id}-error` };
  const control = option.choices
    ? el("select", described, ...option.choices.map((choice) => el("option", { value: choice }, String(choice))))
    : el("input", {
        ...described,
        type: option.type === "integer" || option.type === "number" ? "number" : "text",
        step: option.type === "integer" ? "1" : "any",
        inputmode: option.type === "integer" ? "numeric" : "decimal",
        autocomplete: "off",
      });
  // A value stored before the options were checked stays visible (and refused) until changed.
  if (option.choices && value != null && !option.choices.includes(value)) {
    control.append(el("option", { value }, `${value} (not allowed)`));
  }
  control.value = value ?? option.default ?? "";
  optionInputs[id] = control;
  const label = option.name.charAt(0).toUpperCase() + option.name.slice(1).replace(/_/g, " ");
  const help = [option.description, `${allowed(option)}, default ${option.default}.`].filter(Boolean);
  return el(
    "div",
    { class: "field", dataset: { field: id } },
    el("label", { for: id }, label),
    control,
    el("p", { class: "help", id: `${id}-help` }, help.join(": ")),
    el("p", { class: "field-error", id: `${id}-error` }),
  );
}

/** Show the chosen function's options as fields, filled from `values` (else their defaults). */
function showOptions(values) {
  const fn = functions[input.function_name.value];
  const options = fn?.options || [];
  optionInputs = {};
  document.getElementById("function-options-fields").replaceChildren(
    ...options.map((option) => optionField(option, values[option.name])),
  );
  document.getElementById("function-options-name").textContent = fn?.name || "";
  document.getElementById("function-options").hidden = options.length === 0;
}

/** The declared options' keys, taken out of `metadata` (which keeps the rest). */
function takeOptions(metadata) {
  const taken = {};
  for (const option of functions[input.function_name.value]?.options || []) {
    if (option.name in metadata) {
      taken[option.name] = metadata[option.name];
      delete metadata[option.name];
    }
  }
  return taken;
}

// A new function: its options' fields replace the old one's; values for them typed into the
// JSON editor move into the fields.
function changeFunction() {
  describeFunction();
  const metadata = checkMetadata();
  const taken = metadata ? takeOptions(metadata) : {};
  if (Object.keys(taken).length) input.metadata.value = JSON.stringify(metadata, null, 2);
  showOptions(taken);
}

/** The metadata with the option fields' values (an empty field: the key left out, so the
 * default applies); undefined if the metadata or a field cannot be read. */
function withOptions(metadata) {
  let readable = metadata !== undefined;
  const values = {};
  for (const [field, control] of Object.entries(optionInputs)) {
    const key = field.slice("metadata.".length);
    if (control.validity?.badInput) {
      setError(field, "must be a number");
      readable = false;
    } else if (control.value.trim() === "") continue;
    else values[key] = control.type === "number" ? Number(control.value) : control.value;
  }
  return readable ? { ...metadata, ...values } : undefined;
}

async function loadChoices() {
  const [{ functions: functionList }, tenants] = await Promise.all([
    api("/api/cron/functions"),
    me.role === "superadmin" ? api("/api/cron/tenants") : null,
  ]);
  for (const fn of functionList) {
    functions[fn.name] = fn;
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
  input.function_name.value = job.function_name || "";
  const options = takeOptions(own);
  const values = { ...job, metadata: JSON.stringify(own, null, 2), tenant_id: job.tenant_id || "" };
  // A job may name a function no longer registered: keep it visible rather than lose it.
  if (job.function_name && ![...input.function_name.options].some((o) => o.value === job.function_name)) {
    input.function_name.append(el("option", { value: job.function_name }, `${job.function_name} (not registered)`));
  }
  for (const field of FIELDS) {
    if (field === "is_active") input.is_active.checked = job.is_active;
    else input[field].value = values[field] ?? "";
  }
  showOptions(options);
  fillUpstreams(job);
}

input.schedule.addEventListener("input", previewSoon);
input.timezone.addEventListener("input", previewSoon);
input.jitter_seconds.addEventListener("input", previewSoon);
input.metadata.addEventListener("input", checkMetadata);
input.function_name.addEventListener("change", changeFunction);
document.getElementById("use-my-zone").addEventListener("click", () => {
  input.timezone.value = Intl.DateTimeFormat().resolvedOptions().timeZone;
  previewSoon();
});
form.addEventListener("submit", save);

await Promise.all([loadChoices(), loadUpstreamChoices(jobId)]);
if (jobId) {
  try {
    fill((await api(`/api/cron/jobs/${jobId}`)).job);
  } catch (error) {
    errors.show([], `Could not load the job: ${error.message}`);
  }
}
describeFunction();
runPreview();
input.name.focus();
