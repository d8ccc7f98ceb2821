// The channels page: the notification channels the user may manage, a form to make one (its
// signing secret shown once), and for each a test message, its deliveries and deletion.

import { api, fetchAll } from "./api.js";
import { duration, el, flash, statusBadge, timeElement } from "./format.js";
import { startPage } from "./session.js";

const me = await startPage();

const body = document.getElementById("channels-body");
const count = document.getElementById("channel-count");
const form = document.getElementById("channel-form");
const summary = document.getElementById("form-errors");
const deleteDialog = document.getElementById("confirm-delete");
const FIELDS = ["name", "tenant_id", "kind", "url", "events"];
const LABELS = { tenant_id: "Tenant", url: "Address" };
const tenantNames = new Map(me.tenant_id ? [[me.tenant_id, me.tenant_name]] : []);
let channels = [];
let shownDeliveries = null; // the channel whose deliveries are shown
let deleting = null;

const tenantLabel = (channel) =>
  channel.tenant_id ? tenantNames.get(channel.tenant_id) || channel.tenant_id : "Global";

function row(channel) {
  const test = el("button", { type: "button" }, "Test");
  test.addEventListener("click", () => sendTest(channel, test));
  const deliveries = el("button", { type: "button" }, "Deliveries");
  deliveries.addEventListener("click", () => showDeliveries(channel));
  const remove = el("button", { type: "button", class: "danger" }, "Delete…");
  remove.addEventListener("click", () => confirmDelete(channel));
  const jobs = channel.job_ids === null ? "every job" : `${channel.job_ids.length} job(s)`;
  const cell = (label, ...content) => el("td", { dataset: { label } }, ...content);
  return el(
    "tr",
    { dataset: { channelId: channel.id } },
    el("th", { scope: "row" }, channel.name),
    cell("Kind", channel.kind),
    cell("Tenant", tenantLabel(channel)),
    cell("Address", el("code", {}, channel.url)),
    cell("Events", `${channel.events.join(", ")} · ${jobs}`),
    cell("Actions", el("div", { class: "actions" }, test, deliveries, remove)),
  );
}

async function load() {
  try {
    channels = await fetchAll("/api/cron/channels", "channels");
  } catch (error) {
    count.textContent = `Could not load the channels: ${error.message}`;
    return;
  }
  body.replaceChildren(...channels.map(row));
  count.textContent =
    channels.length === 0
      ? "No channel yet: alerts go nowhere. Make one below."
      : `${channels.length} channel${channels.length === 1 ? "" : "s"}`;
}

async function sendTest(channel, button) {
  button.disabled = true;
  flash(`Sending a test message to “${channel.name}”…`);
  try {
    const { test } = await api(`/api/cron/channels/${channel.id}/test`, { method: "POST" });
    flash(
      test.delivered
        ? `Test delivered to “${channel.name}”: HTTP ${test.status_code} in ${duration(test.duration_ms)}.`
        : `Test not delivered to “${channel.name}”: ${test.error}`,
    );
    await showDeliveries(channel);
  } catch (error) {
    flash(`Could not test “${channel.name}”: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

function deliveryRow(delivery) {
  const answer = delivery.error
    ? el("span", { class: "error-text" }, delivery.error)
    : `HTTP ${delivery.status_code}`;
  const cell = (label, ...content) => el("td", { dataset: { label } }, ...content);
  return el(
    "tr",
    {},
    cell("Attempted", timeElement(delivery.attempted_at)),
    cell("Event", delivery.event),
    cell("Attempt", String(delivery.attempt)),
    cell("Answer", answer),
    cell("Duration", duration(delivery.duration_ms)),
    cell("Notification", statusBadge(delivery.notification_status)),
  );
}

async function showDeliveries(channel) {
  shownDeliveries = channel;
  const section = document.getElementById("deliveries");
  const status = document.getElementById("deliveries-status");
  document.getElementById("deliveries-title").textContent = `Deliveries of “${channel.name}”`;
  section.hidden = false;
  status.textContent = "Loading…";
  try {
    const data = await api(`/api/cron/channels/${channel.id}/deliveries?limit=50`);
    document.getElementById("deliveries-body").replaceChildren(...data.deliveries.map(deliveryRow));
    status.textContent = data.deliveries.length
      ? `The latest ${data.deliveries.length} attempt(s), newest first.`
      : "Nothing sent to this channel yet.";
  } catch (error) {
    status.textContent = `Could not load the deliveries: ${error.message}`;
  }
}

function confirmDelete(channel) {
  deleting = channel;
  document.getElementById("confirm-delete-text").textContent =
    `“${channel.name}” will be deleted, with the alerts still waiting to be sent to it.`;
  deleteDialog.returnValue = "";
  deleteDialog.showModal();
}

deleteDialog.addEventListener("close", async () => {
  if (deleteDialog.returnValue !== "delete" || !deleting) return;
  const channel = deleting;
  try {
    await api(`/api/cron/channels/${channel.id}`, { method: "DELETE" });
    flash(`Deleted “${channel.name}”.`);
    if (shownDeliveries?.id === channel.id) document.getElementById("deliveries").hidden = true;
  } catch (error) {
    flash(`Could not delete “${channel.name}”: ${error.message}`);
  }
  await load();
});

// --- the form ------------------------------------------------------------------------------

function setError(field, message) {
  const node = document.getElementById(`${field}-error`);
  if (!node) return false;
  node.textContent = message;
  const input = document.getElementById(field);
  if (input && message) input.setAttribute("aria-invalid", "true");
  else if (input) input.removeAttribute("aria-invalid");
  return true;
}

function showErrors(errors, message) {
  const items = errors.map(({ field, message: text }) => {
    const name = field.split(".")[0]; // job_ids.1 belongs to job_ids
    const shown = setError(name, text);
    const label = LABELS[name] || name.replace(/_/g, " ");
    return el("li", {}, shown ? el("a", { href: `#${name}` }, label) : label, `: ${text}`);
  });
  summary.replaceChildren(el("p", {}, message), el("ul", {}, ...items));
  summary.hidden = false;
  summary.focus();
}

function showSecret(channel) {
  const box = document.getElementById("secret-box");
  document.getElementById("secret-channel").textContent = `“${channel.name}”`;
  document.getElementById("secret-value").textContent = channel.secret;
  box.hidden = false;
  box.focus();
}

document.getElementById("secret-done").addEventListener("click", () => {
  document.getElementById("secret-value").textContent = "";
  document.getElementById("secret-box").hidden = true;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  for (const field of FIELDS) setError(field, "");
  summary.hidden = true;
  const events = [...form.querySelectorAll('input[name="events"]:checked')].map((i) => i.value);
  const body = {
    name: form.elements.name.value,
    kind: form.elements.kind.value,
    url: form.elements.url.value,
    events,
  };
  if (form.elements.tenant_id.value) body.tenant_id = form.elements.tenant_id.value;
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const { channel } = await api("/api/cron/channels", { method: "POST", body });
    form.reset();
    flash(`Created “${channel.name}”.`);
    if (channel.secret) showSecret(channel);
    await load();
  } catch (error) {
    showErrors(error.errors, `The channel was not created: ${error.message}`);
  } finally {
    button.disabled = false;
  }
});

document.getElementById("refresh").addEventListener("click", async () => {
  await load();
  if (shownDeliveries) await showDeliveries(shownDeliveries);
});

if (me.role === "superadmin") {
  const { tenants } = await api("/api/cron/tenants");
  const select = document.getElementById("tenant_id");
  for (const tenant of tenants) {
    tenantNames.set(tenant.id, tenant.name);
    select.append(el("option", { value: tenant.id }, tenant.name));
  }
  document.getElementById("tenant-field").hidden = false;
}
await load();
