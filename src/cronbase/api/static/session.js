// Signing in and out. The page acts with the token's user, role and tenant, as the API would.

import { api, forgetToken, savedToken, saveToken } from "./api.js";
import { showPendingFlash } from "./format.js";
import { forgetHeartbeat, startHeartbeat } from "./heartbeat.js";

const dialog = document.getElementById("sign-in");
const form = document.getElementById("sign-in-form");
const tokenInput = document.getElementById("token");
const tokenError = document.getElementById("token-error");
const reason = document.getElementById("sign-in-reason");

let signedInAs = null;

function describe(me) {
  const tenant = me.tenant_name || (me.tenant_id ? me.tenant_id : "all tenants");
  return `${me.email || "(no email)"} · ${me.role} · ${tenant}`;
}

function showWho(me) {
  document.getElementById("who-text").textContent = `Signed in as ${describe(me)}`;
  document.getElementById("who").hidden = false;
}

// Resolves with the caller once a token the server accepts is entered. The dialog cannot be
// dismissed: without a token there is nothing the page can show.
function askForToken(message = "") {
  reason.textContent = message;
  tokenError.textContent = "";
  tokenInput.value = "";
  tokenInput.removeAttribute("aria-invalid");
  if (!dialog.open) dialog.showModal();
  tokenInput.focus();
  return new Promise((resolve) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      const token = tokenInput.value.trim();
      if (!token) return invalidToken("Enter your API token or JWT.");
      try {
        const me = await api("/api/cron/me", { token });
        saveToken(token, document.getElementById("remember").checked);
        dialog.close();
        resolve(me);
      } catch (error) {
        invalidToken(error.status === 401 ? `Not signed in: ${error.message}.` : error.message);
      }
    };
  });
}

function invalidToken(message) {
  tokenError.textContent = message;
  tokenInput.setAttribute("aria-invalid", "true");
  tokenInput.focus();
}

dialog.addEventListener("cancel", (event) => event.preventDefault());

document.getElementById("sign-out").addEventListener("click", () => {
  forgetToken();
  forgetHeartbeat();
  window.location.assign("/");
});

// A revoked or expired token: ask again without leaving the page, so a half-filled form
// survives. Signing in as someone else reloads, as the page showed the other user's data.
window.addEventListener("cronbase:session-ended", async (event) => {
  if (dialog.open) return;
  forgetToken();
  const me = await askForToken(`Your session ended: ${event.detail.message}. Sign in again.`);
  if (describe(me) !== describe(signedInAs)) window.location.reload();
});

async function currentUser() {
  if (savedToken()) {
    try {
      return await api("/api/cron/me");
    } catch (error) {
      if (error.status !== 401) throw error;
      forgetToken();
      return askForToken(`Sign in again: ${error.message}.`);
    }
  }
  return askForToken();
}

/**
 * Sign in (asking for a token when there is none), show who is signed in, start the
 * heartbeat, and reveal the page. Resolves with the caller, or never for a role that
 * cannot manage jobs (the page says so instead).
 */
export async function startPage() {
  showPendingFlash();
  let me;
  try {
    me = await currentUser();
  } catch (error) {
    return pageNotice(`The server did not answer: ${error.message}`, true);
  }
  signedInAs = me;
  showWho(me);
  if (!me.can_manage_jobs) {
    return pageNotice(
      `Signed in as ${describe(me)}. Only admins and superadmins manage jobs; ` +
        "sign out and sign in with an admin's token.",
      true,
    );
  }
  const settings = document.body.dataset;
  startHeartbeat({
    intervalSeconds: Number(settings.heartbeatInterval),
    delaySeconds: Number(settings.heartbeatDelay),
  });
  document.getElementById("page").hidden = false;
  return me;
}

/** Show `message` in place of the page; with `final`, the page's code stops here. */
export function pageNotice(message, final = false) {
  const notice = document.getElementById("page-notice");
  const back = document.createElement("a");
  back.href = "/";
  back.textContent = "Go to the jobs";
  notice.replaceChildren(message, " ", back);
  notice.hidden = false;
  document.getElementById("page").hidden = true;
  return final ? new Promise(() => {}) : undefined;
}

// Pages without code of their own (the "not found" page) still show who is signed in.
if (document.querySelector('script[src="/static/session.js"]')) {
  startPage();
}
