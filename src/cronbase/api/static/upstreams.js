// The job form's "Runs after" fieldset: the jobs this one depends on (each with the condition
// on its final run) and whether it waits for any or all of them. form.js reads and fills it.

import { el } from "./format.js";
import { findJobs, jobName } from "./job_picker.js";

const list = document.getElementById("depends_on-list");
const conditions = [
  ["success", "succeeded"],
  ["failure", "failed (or timed out, or was abandoned)"],
  ["completion", "ended either way"],
];
// The jobs a row offers: CHOICES of them by name, those matching what is typed in its search
// (the server searches), so that a job among thousands can be found without loading them all.
const CHOICES = 100;
const SEARCH_DELAY_MS = 300;
let formJobId = null; // the job being edited (never its own upstream), or null
let firstChoices = { found: [], more: false }; // the first CHOICES jobs by name, for a new row

// One more than CHOICES, to know whether there are more.
async function choicesFor(text) {
  const jobs = await findJobs(text, { limit: CHOICES + 1 });
  const found = jobs.filter((job) => job.id !== formJobId).map(({ id, name }) => ({ id, name }));
  return { found: found.slice(0, CHOICES), more: found.length > CHOICES };
}

export async function loadUpstreamChoices(jobId) {
  formJobId = jobId || null;
  firstChoices = await choicesFor("");
  document.getElementById("add-upstream").disabled = firstChoices.found.length === 0;
}

/** Offer `found` in `select`. A job picked there (or saved) stays picked, found or not; else
 * the first found is, so that typing a name and leaving the search picks its job. */
function offer(select, { found, more }) {
  const chosen = select.dataset.picked ? select.selectedOptions[0] : null;
  const options = found.map((choice) => el("option", { value: choice.id }, choice.name));
  if (chosen && !found.some((choice) => choice.id === chosen.value)) options.unshift(chosen);
  if (more) options.push(el("option", { disabled: true, value: "" }, "… more: type to narrow"));
  if (!found.length && !chosen) options.push(el("option", { disabled: true, value: "" }, "no job matches"));
  select.replaceChildren(...options);
  if (chosen) select.value = chosen.value;
}

// A job saved as an upstream that the first choices do not hold: shown by its name, once read.
function chooseSaved(select, jobId) {
  const option = el("option", { value: jobId }, jobId);
  select.prepend(option);
  select.value = jobId;
  select.dataset.picked = "yes";
  jobName(jobId).then((name) => (option.textContent = name));
}

function searchBox(select, number) {
  const box = el("input", {
    type: "search",
    class: "upstream-search",
    "aria-label": `Find job ${number}`,
    placeholder: "Find a job by name",
    autocomplete: "off",
    maxlength: "200",
  });
  let timer = null;
  let asked = 0;
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const number = ++asked;
      const choices = await choicesFor(box.value.trim()).catch(() => null);
      if (choices && number === asked) offer(select, choices);
    }, SEARCH_DELAY_MS);
  });
  return box;
}

function row(dependency) {
  const index = list.children.length;
  const job = el("select", { "aria-label": `Job ${index + 1} to run after`, class: "upstream-job" });
  offer(job, firstChoices);
  job.addEventListener("change", () => (job.dataset.picked = "yes"));
  const on = el(
    "select",
    { "aria-label": `Run when job ${index + 1}`, class: "upstream-on" },
    ...conditions.map(([value, label]) => el("option", { value }, label)),
  );
  if (dependency) {
    if (firstChoices.found.some((choice) => choice.id === dependency.job_id)) {
      job.value = dependency.job_id;
      job.dataset.picked = "yes";
    } else chooseSaved(job, dependency.job_id);
    on.value = dependency.on;
  }
  const remove = el("button", { type: "button", class: "link" }, "Remove");
  const item = el("li", {}, searchBox(job, index + 1), " ", job, " when it ", on, " ", remove);
  remove.addEventListener("click", () => item.remove());
  return item;
}

export function addUpstream(dependency) {
  list.append(row(dependency));
}

export function fillUpstreams(job) {
  list.replaceChildren();
  for (const dependency of job.depends_on || []) addUpstream(dependency);
  document.getElementById("wait_for").value = job.wait_for || "any";
}

export function upstreamsValue() {
  return [...list.children].map((item) => ({
    job_id: item.querySelector(".upstream-job").value,
    on: item.querySelector(".upstream-on").value,
  }));
}

document.getElementById("add-upstream").addEventListener("click", () => {
  addUpstream(null);
  list.lastElementChild.querySelector("select").focus();
});
