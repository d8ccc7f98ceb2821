// The job form's "Runs after" fieldset: the jobs this one depends on (each with the condition
// on its final run) and whether it waits for any or all of them. form.js reads and fills it.

import { api } from "./api.js";
import { el } from "./format.js";

const list = document.getElementById("depends_on-list");
const conditions = [
  ["success", "succeeded"],
  ["failure", "failed (or timed out, or was abandoned)"],
  ["completion", "ended either way"],
];
let choices = []; // [{id, name}] of the jobs the caller may see, but this one

export async function loadUpstreamChoices(jobId) {
  const { jobs } = await api("/api/cron/jobs?limit=500");
  choices = jobs.filter((job) => job.id !== jobId).map(({ id, name }) => ({ id, name }));
  document.getElementById("add-upstream").disabled = choices.length === 0;
}

function row(dependency) {
  const index = list.children.length;
  const job = el(
    "select",
    { "aria-label": `Job ${index + 1} to run after`, class: "upstream-job" },
    ...choices.map((choice) => el("option", { value: choice.id }, choice.name)),
  );
  const on = el(
    "select",
    { "aria-label": `Run when job ${index + 1}`, class: "upstream-on" },
    ...conditions.map(([value, label]) => el("option", { value }, label)),
  );
  if (dependency) {
    if (!choices.some((choice) => choice.id === dependency.job_id)) {
      job.append(el("option", { value: dependency.job_id }, dependency.job_id));
    }
    job.value = dependency.job_id;
    on.value = dependency.on;
  }
  const remove = el("button", { type: "button", class: "link" }, "Remove");
  const item = el("li", {}, job, " when it ", on, " ", remove);
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
