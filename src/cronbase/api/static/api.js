// Calls to the JSON API with the signed-in user's token. Every page talks to the server here.

const TOKEN_KEY = "cronbase.token";

// A tab's own sign-in lives in sessionStorage and ends with the tab; "keep me signed in"
// puts it in localStorage, which every tab of this browser shares.
export function savedToken() {
  return sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY);
}

export function saveToken(token, remember) {
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

/** An error answer of the API: its HTTP status, message and per-field errors. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `the server answered HTTP ${status}`);
    this.status = status;
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
  }
}

/**
 * Call the API and return the envelope's `data`, or throw an ApiError. A 401 for the saved
 * token means the session ended (revoked or expired): the page is told so it can ask again.
 */
export async function api(path, { method = "GET", body, token = savedToken() } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { message: "the server cannot be reached; is cronbase running?" });
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, payload);
    if (response.status === 401 && token && token === savedToken()) {
      window.dispatchEvent(new CustomEvent("cronbase:session-ended", { detail: error }));
    }
    throw error;
  }
  return payload?.data;
}

/** Fetch every page of a list endpoint (`key` names the list in `data`). */
export async function fetchAll(path, key, onProgress = () => {}) {
  const items = [];
  let offset = 0;
  const join = path.includes("?") ? "&" : "?";
  while (offset !== null) {
    const data = await api(`${path}${join}limit=500&offset=${offset}`);
    items.push(...data[key]);
    onProgress(items.length);
    offset = data.pagination.next_offset;
  }
  return items;
}
