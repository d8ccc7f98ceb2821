// The job page's audit log (GET /api/cron/jobs/{id}/audit): who did what to the job and when,
// with the fields that changed, newest first, a page at a time.

import { api } from "./api.js";
import { absoluteTime, cell, el, timeElement } from "./format.js";
import { Pages, rowRange } from "./pager.js";

const PER_PAGE = 20;
const LONG = 80; // a value longer than this is cut; its whole text is on hover

// Each action as a sentence's verb.
const VERBS = {
  created: "created",
  updated: "edited",
  paused: "paused",
  resumed: "resumed",
  deleted: "deleted",
  ran: "ran now",
  backfilled: "backfilled",
  backfill_cancelled: "cancelled a backfill",
};
// What a created entry shows of the job it made (the rest are its defaults, in --json and the API).
const CREATED_SHOWN = ["name", "schedule", "timezone", "function_name", "is_active"];

const body = document.getElementById("audit-body");
const status = document.getElementById("audit-status");
const newer = document.getElementById("audit-newer");
const older = document.getElementById("audit-older");
const pages = new Pages();
let jobId = null;
let nextCursor = null;

function value(v) {
  if (v === null || v === undefined) return el("span", { class: "muted" }, "none");
  const text = typeof v === "string" ? v : JSON.stringify(v);
  if (text.length <= LONG) return el("code", {}, text);
  return el("code", { title: text }, `${text.slice(0, LONG - 1)}…`);
}

function changeList(changes) {
  return el("ul", { class: "audit-changes" },
    ...Object.entries(changes).map(([field, change]) =>
      el("li", {}, el("span", { class: "audit-field" }, field), ": ", value(change.from), " → ", value(change.to)),
    ),
  );
}

function what(entry) {
  const detail = entry.detail || {};
  if (entry.action === "created" && entry.changes) {
    const shown = CREATED_SHOWN.filter((field) => field in entry.changes);
    return el("ul", { class: "audit-changes" },
      ...shown.map((field) => el("li", {}, el("span", { class: "audit-field" }, field), ": ", value(entry.changes[field].to))),
    );
  }
  if (entry.changes && detail.upstream_deleted) {
    return el("div", {}, changeList(entry.changes), el("span", { class: "muted" }, `“${detail.name}”, which it ran after, was deleted`));
  }
  if (entry.changes) return changeList(entry.changes);
  if (entry.action === "ran") return el("span", {}, "queued run ", value(detail.run_id));
  if (detail.backfill_id) {
    const removed = entry.action === "backfill_cancelled" ? `, ${detail.removed} waiting removed` : "";
    return el("span", {},
      `${detail.queued} run${detail.queued === 1 ? "" : "s"} from ${absoluteTime(detail.start)} `
        + `until ${absoluteTime(detail.end)}${removed}`,
    );
  }
  if (entry.action === "deleted") return el("span", {}, "“", detail.name, "”");
  return el("span", { class: "muted" }, "—");
}

function row(entry) {
  return el("tr", {},
    cell("When", timeElement(entry.at, { relativeText: false })),
    cell("Action", el("span", { class: `audit-action audit-${entry.action}` }, VERBS[entry.action] || entry.action)),
    cell("Who", entry.actor || "—", " ", el("span", { class: "muted" }, `(${entry.actor_role})`)),
    cell("What", what(entry)),
  );
}

/** Read the shown page again (after a change on the page, or the page's refresh). */
export async function loadAudit() {
  let data;
  try {
    const query = new URLSearchParams({ limit: String(PER_PAGE) });
    if (pages.cursor) query.set("cursor", pages.cursor);
    data = await api(`/api/cron/jobs/${jobId}/audit?${query}`);
  } catch (error) {
    status.textContent = `Could not load the audit log: ${error.message}`;
    return;
  }
  body.replaceChildren(...data.entries.map(row));
  status.textContent = data.entries.length ? "" : pages.number > 1 ? "No older entries." : "Nothing recorded yet.";
  document.getElementById("audit-page-info").textContent = data.entries.length
    ? `Entries ${rowRange(pages, PER_PAGE, data.entries.length)}`
    : "";
  nextCursor = data.pagination.next_cursor;
  newer.disabled = pages.number === 1;
  older.disabled = nextCursor === null;
}

export function startAudit(id) {
  jobId = id;
  newer.addEventListener("click", () => {
    pages.back();
    loadAudit();
  });
  older.addEventListener("click", () => {
    pages.forward(nextCursor);
    loadAudit();
  });
}
