// A job page's backfill form: preview the slots of a range (a dry run), then queue them.

import { api } from "./api.js";
import { absoluteTime, el } from "./format.js";

const form = document.getElementById("backfill-form");
const start = document.getElementById("backfill-start");
const end = document.getElementById("backfill-end");
const dependents = document.getElementById("backfill-dependents");
const queueButton = document.getElementById("backfill-queue");
const status = document.getElementById("backfill-status");
const slotList = document.getElementById("backfill-slots");
let previewed = null; // the body the preview was made for: queueing sends the same

document.getElementById("backfill-zone").textContent = Intl.DateTimeFormat().resolvedOptions().timeZone;

// A datetime-local value is the browser's wall clock: send it as an instant with its offset.
const instant = (input) => (input.value ? new Date(input.value).toISOString() : null);

function body() {
  return { start: instant(start), end: instant(end), include_dependents: dependents.checked };
}

async function send(jobId, dryRun) {
  const request = body();
  if (!request.start || !request.end) {
    status.textContent = "Give both ends of the range.";
    return null;
  }
  try {
    return await api(`/api/cron/jobs/${jobId}/backfills`, {
      method: "POST",
      body: { ...request, dry_run: dryRun },
    });
  } catch (error) {
    status.textContent = `Could not ${dryRun ? "preview" : "queue"} it: ${error.message}`;
    return null;
  }
}

export function startBackfillForm(jobId, onQueued) {
  for (const input of [start, end, dependents]) {
    input.addEventListener("input", () => {
      previewed = null;
      queueButton.disabled = true;
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    queueButton.disabled = true;
    const data = await send(jobId, true);
    if (!data) return slotList.replaceChildren();
    slotList.replaceChildren(...data.slots.map((slot) => el("li", {}, absoluteTime(slot))));
    status.textContent = data.slots.length
      ? `${data.slots.length} slot(s) to run:`
      : "No slot to run: every slot in the range succeeded, runs or waits already.";
    previewed = data.slots.length ? JSON.stringify(body()) : null;
    queueButton.disabled = !previewed;
  });
  queueButton.addEventListener("click", async () => {
    if (!previewed || previewed !== JSON.stringify(body())) return;
    queueButton.disabled = true;
    const data = await send(jobId, false);
    if (!data) return;
    previewed = null;
    slotList.replaceChildren();
    status.textContent = `Queued ${data.backfill.queued} run(s) (backfill ${data.backfill.id}).`;
    onQueued();
  });
}
