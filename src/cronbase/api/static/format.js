// Small DOM and formatting helpers. Times show in the browser's time zone, with the zone named.

/** Create an element: el("a", { href: "/" }, "text", child). Text is never parsed as HTML. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

// One format for every instant the UI shows, with its zone, so a page never mixes styles:
// "Nov 30, 2026, 3:07:00 PM EST". Relative texts ("in 4 minutes") carry it on hover.
const absolute = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "long",
});
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** An instant (ISO text, Date or epoch milliseconds) in the one format. */
export function absoluteTime(when) {
  return absolute.format(new Date(when));
}

// Instants the server writes into texts (a missed run's error names its first and last slot).
const ISO_INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;

/** `text` with each ISO instant in it written in the one format. */
export function withLocalTimes(text) {
  return text.replace(ISO_INSTANT, (iso) => {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : absoluteTime(date);
  });
}

const UNITS = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

export function relativeTime(iso, now = Date.now()) {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return relative.format(Math.round(seconds / size), unit);
    }
  }
  return "";
}

/** A <time> showing "in 4 minutes" (or the instant), with the instant on hover. */
export function timeElement(iso, { relativeText = true } = {}) {
  if (!iso) return el("span", { class: "muted" }, "—");
  const text = relativeText ? relativeTime(iso) : absoluteTime(iso);
  return el("time", { datetime: iso, title: absoluteTime(iso) }, text);
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60000);
  return `${minutes} min ${Math.round((ms % 60000) / 1000)} s`;
}

/** A run status as people read it: "timed out". */
export const statusText = (status) => status.replace("_", " ");

export function statusBadge(status) {
  return el("span", { class: `badge status-${status}` }, statusText(status));
}

// The inner div keeps a cell's content together when narrow screens lay cells out as grids.
export const cell = (label, ...content) =>
  el("td", { dataset: { label } }, el("div", { class: "cell" }, ...content));

/** A message that survives one navigation (e.g. "Job created" on the page it leads to). */
export function flashNext(message) {
  sessionStorage.setItem("cronbase.flash", message);
}

export function flash(message) {
  const node = document.getElementById("flash");
  node.textContent = message;
  node.classList.toggle("shown", Boolean(message));
}

export function showPendingFlash() {
  const message = sessionStorage.getItem("cronbase.flash");
  sessionStorage.removeItem("cronbase.flash");
  if (message) flash(message);
}
