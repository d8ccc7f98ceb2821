// The channels page: the notification channels the user may manage, a form to make one (its
// signing secret shown once) or edit one, and for each a mute, a test message, its deliveries,
// a new secret and deletion; below them, the maintenance windows (maintenance.js).

import { api, fetchAll } from "./api.js";
import { cell, duration, el, flash, statusBadge, timeElement } from "./format.js";
import { FormErrors } from "./form_errors.js";
import { JobPicker, jobName } from "./job_picker.js";
import { addTenantChoices, startMaintenance } from "./maintenance.js";
import { askMute, isMuted, mutedText } from "./mute.js";
import { startPage } from "./session.js";

const me = await startPage();

const body = document.getElementById("channels-body");
const count = document.getElementById("channel-count");
const form = document.getElementById("channel-form");
const summary = document.getElementById("form-errors");
const deleteDialog = document.getElementById("confirm-delete");
const rotateDialog = document.getElementById("confirm-rotate");
const errors = new FormErrors(summary, { labels: { tenant_id: "Tenant", url: "Address", job_ids: "Jobs" } });
const tenantNames = new Map(me.tenant_id ? [[me.tenant_id, me.tenant_name]] : []);
let channels = [];
let shownDeliveries = null; // the channel whose deliveries are shown
let deleting = null;
let rotating = null;
let editing = null; // the channel the form edits; null: the form makes a new one
// A tenant's channel can follow only that tenant's jobs: the picker searches those.
const picker = new JobPicker(document.getElementById("job_ids"), () =>
  editing ? editing.tenant_id || "" : form.elements.tenant_id.value,
);

const tenantLabel = (channel) =>
  channel.tenant_id ? tenantNames.get(channel.tenant_id) || channel.tenant_id : "Global";

function button(text, onClick, attributes = {}) {
  const node = el("button", { type: "button", ...attributes }, text);
  node.addEventListener("click", () => onClick(node));
  return node;
}

function row(channel) {
  const muted = isMuted(channel.muted_until);
  const actions = [
    button("Edit", () => edit(channel)),
    muted ? button("Unmute", (node) => unmute(channel, node)) : button("Mute…", () => mute(channel)),
    button("Test", (node) => sendTest(channel, node)),
    button("Deliveries", () => showDeliveries(channel)),
    channel.kind === "webhook" ? button("Rotate secret…", () => confirmRotate(channel)) : null,
    button("Delete…", () => confirmDelete(channel), { class: "danger" }),
  ];
  const jobs = el("span", {}, channel.job_ids === null ? "every job" : `${channel.job_ids.length} job(s)`);
  if (channel.job_ids) Promise.all(channel.job_ids.map(jobName)).then((names) => (jobs.textContent = names.join(", ")));
  return el(
    "tr",
    { dataset: { channelId: channel.id } },
    el("th", { scope: "row" }, channel.name),
    cell("Kind", channel.kind),
    cell("Tenant", tenantLabel(channel)),
    cell("Address", el("code", {}, channel.url)),
    cell("Events", `${channel.events.join(", ")} · `, jobs),
    cell("Alerts", mutedText(channel.muted_until) || "on"),
    cell("Actions", el("div", { class: "actions" }, ...actions)),
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
    if (editing?.id === channel.id) await setEditing(null);
  } catch (error) {
    flash(`Could not delete “${channel.name}”: ${error.message}`);
  }
  await load();
});

async function put(channel, changes) {
  return (await api(`/api/cron/channels/${channel.id}`, { method: "PUT", body: changes })).channel;
}

async function mute(channel) {
  const saved = await askMute(
    channel.name,
    "No alert goes to this channel until then: the alerts meanwhile are dropped, not sent later.",
    (until) => put(channel, { muted_until: until }),
  );
  if (!saved) return;
  flash(`Muted “${channel.name}”.`);
  await load();
}

async function unmute(channel, node) {
  node.disabled = true;
  try {
    await put(channel, { muted_until: null });
    flash(`Unmuted “${channel.name}”: alerts go to it again.`);
  } catch (error) {
    flash(`Could not unmute “${channel.name}”: ${error.message}`);
  }
  await load();
}

function confirmRotate(channel) {
  rotating = channel;
  document.getElementById("confirm-rotate-text").textContent =
    `“${channel.name}” gets a new signing secret, shown once. For 24 hours each alert carries ` +
    "a signature with the old secret too, so the receiver can switch without missing one.";
  rotateDialog.returnValue = "";
  rotateDialog.showModal();
}

rotateDialog.addEventListener("close", async () => {
  if (rotateDialog.returnValue !== "rotate" || !rotating) return;
  const channel = rotating;
  try {
    const rotated = await api(`/api/cron/channels/${channel.id}/rotate-secret`, { method: "POST" });
    flash(`Rotated the secret of “${channel.name}”.`);
    showSecret(rotated.channel, "New signing secret");
  } catch (error) {
    flash(`Could not rotate the secret of “${channel.name}”: ${error.message}`);
  }
  await load();
});

// --- the form: a new channel, or the one being edited ----------------------------------------

function showSecret(channel, what = "Signing secret") {
  const box = document.getElementById("secret-box");
  document.getElementById("secret-what").textContent = what;
  document.getElementById("secret-channel").textContent = `“${channel.name}”`;
  document.getElementById("secret-value").textContent = channel.secret;
  box.hidden = false;
  box.focus();
}

document.getElementById("secret-done").addEventListener("click", () => {
  document.getElementById("secret-value").textContent = "";
  document.getElementById("secret-box").hidden = true;
});

/** The form for a new channel (null) or for editing `channel`; kind and tenant are fixed. */
async function setEditing(channel) {
  editing = channel;
  errors.clear();
  form.reset();
  document.getElementById("channel-form-title").textContent = channel ? `Edit “${channel.name}”` : "New channel";
  document.getElementById("channel-save").textContent = channel ? "Save channel" : "Create channel";
  document.getElementById("channel-cancel").hidden = !channel;
  document.getElementById("kind-help").hidden = !channel;
  form.elements.kind.disabled = Boolean(channel);
  form.elements.tenant_id.disabled = Boolean(channel);
  if (channel) {
    form.elements.name.value = channel.name;
    form.elements.kind.value = channel.kind;
    form.elements.tenant_id.value = channel.tenant_id || "";
    form.elements.url.value = channel.url;
    for (const box of form.querySelectorAll('input[name="events"]')) box.checked = channel.events.includes(box.value);
  }
  await picker.set(channel ? channel.job_ids : null);
}

async function edit(channel) {
  await setEditing(channel);
  document.getElementById("channel-form-title").scrollIntoView();
  form.elements.name.focus();
}

document.getElementById("channel-cancel").addEventListener("click", () => setEditing(null));
form.elements.tenant_id.addEventListener("change", () => picker.find());

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errors.clear();
  const events = [...form.querySelectorAll('input[name="events"]:checked')].map((i) => i.value);
  const body = { name: form.elements.name.value, url: form.elements.url.value, events, job_ids: picker.value() };
  if (!editing) {
    body.kind = form.elements.kind.value;
    if (form.elements.tenant_id.value) body.tenant_id = form.elements.tenant_id.value;
  }
  const save = document.getElementById("channel-save");
  save.disabled = true;
  try {
    if (editing) {
      const channel = await put(editing, body);
      flash(`Saved “${channel.name}”.`);
    } else {
      const { channel } = await api("/api/cron/channels", { method: "POST", body });
      flash(`Created “${channel.name}”.`);
      if (channel.secret) showSecret(channel);
    }
    await setEditing(null);
    await load();
  } catch (error) {
    errors.show(error.errors, `The channel was not ${editing ? "saved" : "created"}: ${error.message}`);
  } finally {
    save.disabled = false;
  }
});

const loadWindows = startMaintenance(me, (id) => tenantNames.get(id) || id);

document.getElementById("refresh").addEventListener("click", async () => {
  await Promise.all([load(), loadWindows()]);
  if (shownDeliveries) await showDeliveries(shownDeliveries);
});

if (me.role === "superadmin") {
  const { tenants } = await api("/api/cron/tenants");
  const select = document.getElementById("tenant_id");
  for (const tenant of tenants) {
    tenantNames.set(tenant.id, tenant.name);
    select.append(el("option", { value: tenant.id }, tenant.name));
  }
  addTenantChoices(tenants);
  document.getElementById("tenant-field").hidden = false;
}
await setEditing(null);
await Promise.all([load(), loadWindows()]);
