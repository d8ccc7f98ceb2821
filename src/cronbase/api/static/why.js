// The job page's status box: why the job runs or does not (GET /api/cron/jobs/{id}/explain),
// its state in a word and a sentence, the evidence, and its next five run times.

import { api } from "./api.js";
import { el, timeElement, withLocalTimes } from "./format.js";

// How each state looks: the run statuses' colours (app.css), by what the state means.
const TONE = {
  scheduled: "status-succeeded",
  due: "status-running",
  running: "status-running",
  retry_pending: "status-pending",
  paused: "status-paused",
  on_demand: "status-paused",
  waiting_for_dependencies: "status-paused",
  overdue_no_worker: "status-failed",
  overdue_workers_busy: "status-failed",
  invalid_schedule: "status-failed",
};

export async function loadWhy(jobId) {
  const box = document.getElementById("why");
  let explanation;
  try {
    ({ explanation } = await api(`/api/cron/jobs/${jobId}/explain`));
  } catch (error) {
    box.replaceChildren(el("p", {}, `Could not say why: ${error.message}`));
    return;
  }
  const { alive, free_slots: free, threads } = explanation.workers;
  const slots = free === null || !alive ? "" : `, ${free} of ${threads} slots free`;
  box.dataset.state = explanation.state;
  const utc = explanation.timezone === "UTC";
  box.replaceChildren(
    el("p", { class: "why-state" },
      el("span", { class: `badge ${TONE[explanation.state] || ""}`, id: "why-state" }, explanation.state),
      " ",
      el("span", { id: "why-summary" }, withLocalTimes(explanation.summary)),
    ),
    el("ul", { id: "why-details" },
      ...explanation.details.map((line) => el("li", {}, withLocalTimes(line))),
      el("li", { id: "why-workers" }, `${alive} live worker${alive === 1 ? "" : "s"}${slots}.`),
    ),
    ...(explanation.next_runs.length
      ? [
          // A UTC job's wall clock is UTC: its time once, not "UTC, and UTC" and +00:00 beside Z.
          el("p", {}, utc ? "Next runs (UTC):" : `Next runs (${explanation.timezone}, and UTC):`),
          el("ol", { id: "why-next" },
            ...explanation.next_runs.map((t) =>
              el("li", {}, timeElement(t.utc, { relativeText: false }),
                utc ? ` — ${t.utc}` : ` — ${t.local} — ${t.utc}`),
            ),
          ),
        ]
      : []),
  );
}
