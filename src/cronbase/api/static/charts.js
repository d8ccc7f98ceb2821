// Pictures of the run table, drawn here as inline SVG: the strip of a job's recent outcomes,
// the chart of its last runs, and the last hour minute by minute. No library, nothing from
// another origin; colours come from the status classes of app.css (fill: currentColor).

import { absoluteTime, duration, statusText } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const FAILURES = new Set(["failed", "timed_out", "abandoned"]);

/** Create an SVG element: svg("rect", { x: 1 }, child). Text is never parsed as markup. */
function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

export const isFailure = (status) => FAILURES.has(status);

// Axis labels are short ("Nov 30, 3:07 PM"); a mark's title has the full instant.
const shortTime = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
});
const clockTime = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });

const runInstant = (run) => run.started_at || run.scheduled_for;
// Axis ticks fall between whole milliseconds.
const roundedDuration = (ms) => duration(Math.round(ms));

/** What one run did, in words: a mark's title. */
export function describeRun(run) {
  const parts = [statusText(run.status), absoluteTime(runInstant(run))];
  if (run.duration_ms !== null) parts.push(`took ${duration(run.duration_ms)}`);
  if (run.start_lag_ms !== null) parts.push(`started ${duration(run.start_lag_ms)} late`);
  if (run.attempt > 1) parts.push(`attempt ${run.attempt}`);
  if (run.trigger === "manual") parts.push("run by hand");
  return parts.join(", ");
}

const STRIP = { mark: 6, gap: 2, height: 16 };

/**
 * A job's recent outcomes as a strip of `slots` marks, oldest left, the newest at the right
 * end. A failure is a full-height mark; a success a shorter one; a run that did not happen
 * (missed, skipped) a stub. Each mark is an image named by what the run did.
 */
export function outcomeStrip(runs, slots = 20) {
  const pitch = STRIP.mark + STRIP.gap;
  const width = slots * pitch - STRIP.gap;
  const failures = runs.filter((run) => isFailure(run.status)).length;
  const label = runs.length
    ? `Last ${runs.length} run${runs.length === 1 ? "" : "s"}, oldest first: ${failures} failed`
    : "No runs yet";
  const strip = svg("svg", {
    class: "strip",
    role: "group",
    "aria-label": label,
    width,
    height: STRIP.height,
    viewBox: `0 0 ${width} ${STRIP.height}`,
  });
  const shown = runs.slice(-slots);
  shown.forEach((run, index) => {
    const failed = isFailure(run.status);
    const happened = run.started_at !== null;
    const height = failed ? STRIP.height : happened ? 11 : 4;
    const text = describeRun(run);
    strip.append(
      svg(
        "rect",
        {
          class: `mark status-${run.status}${failed ? " failure" : ""}`,
          "data-status": run.status,
          role: "img",
          "aria-label": text,
          x: (slots - shown.length + index) * pitch,
          y: STRIP.height - height,
          width: STRIP.mark,
          height,
          rx: 1,
        },
        svg("title", {}, text),
      ),
    );
  });
  return strip;
}

const MARGIN = { left: 64, right: 10, top: 10, bottom: 24 };
const WIDEST_COLUMN = 16; // a few runs make slim columns at the right, not wide blocks

/** The axis top for `greatest`: the next of 1, 2, 4, 6, 8 times a power of ten, so the
 * three ticks (0, half, top) are round numbers. */
function roundTop(greatest) {
  if (greatest <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(greatest));
  const step = [1, 2, 4, 6, 8, 10].find((n) => n * power >= greatest);
  return step * power;
}

/**
 * A column chart: one column per item of `columns` ({value, overlay, title, status, data}),
 * a y axis from 0 to the greatest value with three labelled ticks (`format`), and `xLabels`
 * ([left, right]) under the ends. A column with `failed` gets a marker above it as well as
 * its colour, so failures show without colour too. `width` is the container's, so text keeps
 * its size on a phone.
 */
function columnChart({ label, columns, format, xLabels, width, height = 150, kind }) {
  width = Math.max(280, Math.round(width));
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const greatest = Math.max(0, ...columns.map((column) => column.value ?? 0));
  const top = roundTop(greatest);
  const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const chart = svg("svg", {
    class: `chart chart-${kind}`,
    role: "img",
    "aria-label": label,
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
  });
  for (const tick of [0, top / 2, top]) {
    chart.append(
      svg("line", { class: "grid", x1: MARGIN.left, x2: width - MARGIN.right, y1: y(tick), y2: y(tick) }),
      svg(
        "text",
        { class: "tick", x: MARGIN.left - 6, y: y(tick) + 4, "text-anchor": "end" },
        format(tick),
      ),
    );
  }
  const pitch = Math.min(plotWidth / Math.max(columns.length, 1), WIDEST_COLUMN / 0.75);
  const barWidth = Math.max(1, pitch * 0.75);
  const first = width - MARGIN.right - columns.length * pitch; // the newest column at the right
  const [left, right] = xLabels;
  const base = height - 6;
  // Under a few columns the two labels would run into each other: one label says both.
  const narrow = width - MARGIN.right - first < 230;
  const end = width - MARGIN.right;
  if (narrow) {
    const both = left === right ? right : `${left} – ${right}`;
    chart.append(svg("text", { class: "tick", x: end, y: base, "text-anchor": "end" }, both));
  } else {
    chart.append(
      svg("text", { class: "tick", x: first, y: base, "text-anchor": "start" }, left),
      svg("text", { class: "tick", x: end, y: base, "text-anchor": "end" }, right),
    );
  }
  columns.forEach((column, index) => {
    const x = first + index * pitch + (pitch - barWidth) / 2;
    const value = column.value ?? 0;
    // A column of 0 (or of a run that never started) still shows as a sliver on the axis.
    const barTop = Math.min(y(value), y(0) - 1);
    const group = svg(
      "g",
      { class: `column status-${column.status}`, ...column.data },
      svg("title", {}, column.title),
      svg("rect", { class: "bar", x, y: barTop, width: barWidth, height: y(0) - barTop }),
    );
    if (column.overlay) {
      const overlayTop = y(column.overlay);
      group.append(
        svg("rect", {
          class: "bar overlay status-failed",
          x,
          y: overlayTop,
          width: barWidth,
          height: y(0) - overlayTop,
        }),
      );
    }
    if (column.failed) {
      // A downward triangle above the column.
      const middle = x + barWidth / 2;
      const tip = barTop - 2;
      const half = Math.max(3, Math.min(5, barWidth / 2));
      group.append(
        svg("path", {
          class: "failure-mark status-failed",
          d: `M ${middle} ${tip} L ${middle - half} ${tip - 2 * half} L ${middle + half} ${tip - 2 * half} Z`,
        }),
      );
    }
    chart.append(group);
  });
  return chart;
}

const runsText = (count) => `${count} run${count === 1 ? "" : "s"}`;

/** The width of one chart in `box`: half of it when two fit side by side, else all of it. */
export function chartWidth(box) {
  return box.clientWidth >= 640 ? (box.clientWidth - 24) / 2 : box.clientWidth;
}

function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function figure(title, chart, summary) {
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  const note = document.createElement("p");
  note.className = "chart-summary";
  note.textContent = summary;
  const node = document.createElement("figure");
  node.className = "chart-figure";
  node.append(caption, chart, note);
  return node;
}

/**
 * A job's last runs, oldest left: how long each took and how late each started, in two
 * charts over the same columns. Failed runs are red and carry a marker.
 */
export function runCharts(runs, width) {
  const xLabels = runs.length
    ? [shortTime.format(new Date(runInstant(runs[0]))), shortTime.format(new Date(runInstant(runs.at(-1))))]
    : ["", ""];
  const failures = runs.filter((run) => isFailure(run.status)).length;
  const charts = [];
  for (const [kind, key, title] of [
    ["duration", "duration_ms", "Duration"],
    ["lag", "start_lag_ms", "Start lag (started − due: slot + jitter offset)"],
  ]) {
    const values = runs.map((run) => run[key]).filter((value) => value !== null);
    const summary = values.length
      ? `${runsText(runs.length)}, ${failures} failed; median ${duration(median(values))}, greatest ${duration(Math.max(...values))}.`
      : `${runsText(runs.length)}, ${failures} failed; none has a ${title.toLowerCase()} yet.`;
    const chart = columnChart({
      kind,
      label: `${title} of the last ${runs.length} runs, oldest first. ${summary}`,
      width,
      format: roundedDuration,
      xLabels,
      columns: runs.map((run) => ({
        value: run[key],
        status: run.status,
        failed: isFailure(run.status),
        title: describeRun(run),
        data: { "data-status": run.status, "data-run-id": run.id },
      })),
    });
    charts.push(figure(title, chart, summary));
  }
  return charts;
}

/**
 * The last hour minute by minute: runs started (failures in red, on top of the count, and
 * marked) and their greatest start lag.
 */
export function activityCharts(minutes, width) {
  const xLabels = minutes.length
    ? [clockTime.format(new Date(minutes[0].minute)), clockTime.format(new Date(minutes.at(-1).minute))]
    : ["", ""];
  const total = minutes.reduce((sum, minute) => sum + minute.runs, 0);
  const failures = minutes.reduce((sum, minute) => sum + minute.failures, 0);
  const lags = minutes.map((minute) => minute.max_lag_ms).filter((lag) => lag !== null);
  const when = (minute) => clockTime.format(new Date(minute.minute));
  const data = (minute) => ({
    "data-minute": minute.minute,
    "data-runs": minute.runs,
    "data-failures": minute.failures,
  });
  const runsSummary = `${runsText(total)} in the last hour, ${failures} failed.`;
  const lagSummary = lags.length
    ? `Greatest start lag ${duration(Math.max(...lags))}.`
    : "No run started in the last hour.";
  const count = (n) => String(Math.round(n * 10) / 10);
  return [
    figure(
      "Runs per minute (failed in red)",
      columnChart({
        kind: "runs",
        label: `Runs per minute over the last hour. ${runsSummary}`,
        width,
        format: count,
        xLabels,
        columns: minutes.map((minute) => ({
          value: minute.runs,
          overlay: minute.failures,
          failed: minute.failures > 0,
          status: "succeeded",
          title: `${when(minute)}: ${runsText(minute.runs)}, ${minute.failures} failed`,
          data: data(minute),
        })),
      }),
      runsSummary,
    ),
    figure(
      "Greatest start lag per minute",
      columnChart({
        kind: "lag",
        label: `Greatest start lag per minute over the last hour. ${lagSummary}`,
        width,
        format: roundedDuration,
        xLabels,
        columns: minutes.map((minute) => ({
          value: minute.max_lag_ms,
          status: "running",
          title:
            minute.runs === 0
              ? `${when(minute)}: no runs`
              : `${when(minute)}: start lag mean ${duration(minute.mean_lag_ms)}, greatest ${duration(minute.max_lag_ms)}`,
          data: data(minute),
        })),
      }),
      lagSummary,
    ),
  ];
}
