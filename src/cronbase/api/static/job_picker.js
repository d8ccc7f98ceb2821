// A form's choice of jobs (templates/job_picker.html): every job, or the ones chosen, found by
// name through the jobs API's `q`. The API lists only the jobs the user may see; `tenant()`
// narrows it to one tenant's (a tenant's channel or window can name only that tenant's jobs).

import { api } from "./api.js";
import { el } from "./format.js";

const SHOWN = 20; // search results listed at a time

export class JobPicker {
  /** @param root the picker's fieldset; @param tenant () => the tenant id to search, or "" */
  constructor(root, tenant = () => "") {
    this.root = root;
    this.tenant = tenant;
    this.chosen = new Map(); // id → name
    this.box = root.querySelector(".picker");
    this.search = root.querySelector('input[type="search"]');
    this.results = root.querySelector(".job-results");
    this.status = root.querySelector(".picker-status");
    this.searchNumber = 0;
    this.lastFound = []; // the latest search's jobs, listed under the search box
    this.timer = null;
    for (const radio of this.radios()) radio.addEventListener("change", () => this.showBox());
    this.search.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.find(), 250);
    });
  }

  radios() {
    return [...this.root.querySelectorAll('input[type="radio"]')];
  }

  get some() {
    return this.radios().find((radio) => radio.value === "some").checked;
  }

  showBox() {
    this.box.hidden = !this.some;
    if (this.some && !this.results.children.length) this.find();
  }

  /** null (every job) or the chosen jobs' ids: an empty list is the server's to refuse. */
  value() {
    return this.some ? [...this.chosen.keys()] : null;
  }

  /** Show `ids` as chosen (null: every job), reading their names. */
  async set(ids) {
    this.chosen.clear();
    for (const radio of this.radios()) radio.checked = radio.value === (ids === null ? "all" : "some");
    this.search.value = "";
    this.results.replaceChildren();
    this.showBox();
    if (ids === null) return this.renderChosen();
    const names = await Promise.all(ids.map((id) => jobName(id)));
    ids.forEach((id, index) => this.chosen.set(id, names[index]));
    this.renderChosen();
  }

  reset() {
    return this.set(null);
  }

  renderChosen() {
    const items = [...this.chosen].map(([id, name]) => {
      const remove = el("button", { type: "button", "aria-label": `Remove ${name}` }, "Remove");
      remove.addEventListener("click", () => {
        this.chosen.delete(id);
        this.renderChosen();
        this.renderResults(this.lastFound);
      });
      return el("li", { dataset: { jobId: id } }, el("span", {}, name), " ", remove);
    });
    if (!items.length) items.push(el("li", { class: "muted" }, "No job chosen yet: find one below."));
    this.root.querySelector(".chosen-jobs").replaceChildren(...items);
  }

  async find() {
    const number = ++this.searchNumber;
    const q = this.search.value.trim();
    this.status.textContent = "Searching…";
    try {
      const jobs = await findJobs(q, { limit: SHOWN, tenant: this.tenant() });
      if (number !== this.searchNumber) return; // a slower, older answer must not win
      this.lastFound = jobs;
      this.renderResults(jobs);
      this.status.textContent = jobs.length
        ? `${jobs.length === SHOWN ? `The first ${SHOWN}` : jobs.length} job(s) found.`
        : `No job${q ? ` named like “${q}”` : ""}.`;
    } catch (error) {
      if (number === this.searchNumber) this.status.textContent = `Could not search: ${error.message}`;
    }
  }

  renderResults(jobs) {
    const items = jobs.map((job) => {
      const taken = this.chosen.has(job.id);
      const add = el("button", { type: "button", disabled: taken, "aria-label": `Add ${job.name}` }, taken ? "Added" : "Add");
      add.addEventListener("click", () => {
        this.chosen.set(job.id, job.name);
        this.renderChosen();
        this.renderResults(jobs);
      });
      return el("li", {}, el("span", {}, job.name), " ", add);
    });
    this.results.replaceChildren(...items);
  }
}

/** The jobs whose name holds `q` (every job, if empty), by name, at most `limit`; of one
 * tenant if `tenant` is given. The server searches: a job among thousands is found. */
export async function findJobs(q, { limit, tenant = "" }) {
  const params = new URLSearchParams({ limit: String(limit), sort: "name" });
  if (q) params.set("q", q);
  if (tenant) params.set("tenant_id", tenant);
  return (await api(`/api/cron/jobs?${params}`)).jobs;
}

const names = new Map(); // job id → its name, or why it has none here

/** A job's name, read once per page; a job the user cannot see keeps its id. */
export async function jobName(id) {
  if (!names.has(id)) {
    names.set(
      id,
      api(`/api/cron/jobs/${id}`)
        .then(({ job }) => job.name)
        .catch(() => `job ${id} (deleted, or not visible to you)`),
    );
  }
  return names.get(id);
}
