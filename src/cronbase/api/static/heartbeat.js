// The seed's CronHeartbeat. Where no worker runs (an API-only deployment), an open page of an
// admin runs the due jobs itself: POST /api/cron/run every `interval` seconds, the first one
// `delay` seconds after the page loads. After three failures in a row it stops (the circuit
// breaker) and says so, instead of hammering a broken server all day, until the user resumes.

import { api } from "./api.js";
import { absoluteTime, el, relativeTime } from "./format.js";

const STATE_KEY = "cronbase.heartbeat";
const MAX_FAILURES = 3;

// The state lives in localStorage, shared by the user's pages and tabs: moving from page to
// page does not restart the 5 minutes, and several open tabs do not each run the jobs.
function loadState() {
  try {
    return JSON.parse(localStorage.getItem(STATE_KEY)) || {};
  } catch {
    return {};
  }
}

function saveState(state) {
  localStorage.setItem(STATE_KEY, JSON.stringify(state));
}

export function forgetHeartbeat() {
  localStorage.removeItem(STATE_KEY);
}

const statusLine = document.getElementById("heartbeat-status");
const banner = document.getElementById("heartbeat-banner");

function summaryText(summary) {
  return (
    `${summary.total} due: ${summary.executed} executed, ` +
    `${summary.skipped} skipped, ${summary.failed} failed`
  );
}

/** "Jobs are run by 2 worker(s)", naming them for a superadmin (the only role that gets
 * their hosts and pids from /api/cron/workers). */
function workersText({ alive, workers }) {
  const names = (workers || []).map((w) => `${w.host} (pid ${w.pid})`).join(", ");
  return `Jobs are run by ${alive} worker(s)${names ? `: ${names}` : ""}.`;
}

function render(state, nextAt, live) {
  banner.hidden = !state.stopped;
  if (state.stopped) {
    document.getElementById("heartbeat-banner-text").textContent =
      `The heartbeat stopped after ${MAX_FAILURES} failed attempts in a row ` +
      `(last error: ${state.lastError}). No worker is running, so due jobs do not run ` +
      "until you resume it.";
  }
  if (live?.alive) {
    statusLine.replaceChildren(workersText(live));
    return;
  }
  const parts = ["Heartbeat (no worker is running): "];
  if (state.lastRunAt) {
    parts.push(
      "last ran at ",
      el("time", { datetime: new Date(state.lastRunAt).toISOString() }, absoluteTime(state.lastRunAt)),
      ` — ${summaryText(state.lastSummary)}. `,
    );
  } else {
    parts.push("has not run yet. ");
  }
  if (state.failures && !state.stopped) {
    parts.push(`The last ${state.failures} attempt(s) failed: ${state.lastError}. `);
  }
  if (nextAt && !state.stopped) parts.push(`Next ${relativeTime(nextAt)}.`);
  statusLine.replaceChildren(...parts);
}

/** Start the heartbeat on this page (admins and superadmins only: the caller checks). */
export function startHeartbeat({ intervalSeconds, delaySeconds }) {
  const interval = intervalSeconds * 1000;
  const delay = delaySeconds * 1000;
  let timer = null;
  let nextAt = null;

  function scheduleNext() {
    clearTimeout(timer);
    const state = loadState();
    if (state.stopped) return render(state);
    const wait = Math.max(delay, (state.lastAttemptAt || 0) + interval - Date.now());
    timer = setTimeout(beat, wait);
    nextAt = Date.now() + wait;
    render(state, nextAt);
  }

  async function beat() {
    let state = loadState();
    if (state.stopped) return render(state);
    // Another tab may have beaten meanwhile: then wait for the rest of its interval.
    if (state.lastAttemptAt && Date.now() - state.lastAttemptAt < interval * 0.9) {
      return scheduleNext();
    }
    saveState({ ...state, lastAttemptAt: Date.now() });
    try {
      const live = await api("/api/cron/workers");
      if (live.alive) {
        nextAt = null;
        render(loadState(), null, live);
        timer = setTimeout(beat, interval);
        return;
      }
      const result = await api("/api/cron/run", { method: "POST" });
      state = { ...loadState(), lastRunAt: Date.now(), lastSummary: result.summary };
      state = { ...state, failures: 0, lastError: null };
      window.dispatchEvent(new CustomEvent("cronbase:heartbeat", { detail: result }));
    } catch (error) {
      state = loadState();
      const failures = (state.failures || 0) + 1;
      state = { ...state, failures, lastError: error.message, stopped: failures >= MAX_FAILURES };
    }
    saveState(state);
    scheduleNext();
  }

  document.getElementById("heartbeat-resume").addEventListener("click", () => {
    saveState({ ...loadState(), stopped: false, failures: 0, lastError: null, lastAttemptAt: 0 });
    banner.hidden = true;
    clearTimeout(timer);
    timer = setTimeout(beat, 0);
  });

  // "Next in 4 minutes" must not go stale on a page left open all day.
  setInterval(() => nextAt && render(loadState(), nextAt), 30000);

  // Show straight away whether a worker runs; the first beat comes after the delay.
  api("/api/cron/workers")
    .then((live) => {
      if (live.alive) {
        render(loadState(), null, live);
        timer = setTimeout(beat, Math.max(delay, interval));
      } else {
        scheduleNext();
      }
    })
    .catch(() => scheduleNext());
}
