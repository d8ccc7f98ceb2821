// The jobs list's view: its search, filters, sort and page. The address keeps it, so a view
// can be bookmarked, reloaded and stepped back to; the history entry keeps the cursors of the
// pages before it (for Previous). The server does the work: the view is also the API's query.

import { Pages } from "./pager.js";

export const PAGE_SIZE = 50;
const DEFAULT_SORT = "name";
// Each is a parameter of the API of the same name, but `tenant`: a tenant's id (tenant_id),
// or "global" for the jobs of no tenant (has_tenant=false).
export const FILTER_NAMES = ["q", "tenant", "is_active", "last_status", "function_name"];

let lastChange = null; // what the newest history entry changed

export class JobsView {
  /** The view of the page's address and history entry. */
  constructor() {
    const params = new URLSearchParams(window.location.search);
    this.filters = Object.fromEntries(FILTER_NAMES.map((name) => [name, params.get(name) || ""]));
    this.sort = params.get("sort") || DEFAULT_SORT;
    this.pages = new Pages(params.get("cursor"), history.state?.before);
  }

  get search() {
    return this.filters.q.trim();
  }

  /** Whether any filter or a search narrows the list. */
  get filtered() {
    return FILTER_NAMES.some((name) => this.filters[name]);
  }

  /** Whether a filter other than the search narrows it. */
  get filteredBesidesSearch() {
    return FILTER_NAMES.some((name) => name !== "q" && this.filters[name]);
  }

  clear() {
    for (const name of FILTER_NAMES) this.filters[name] = "";
    this.pages.restart();
  }

  address() {
    const query = new URLSearchParams();
    for (const name of FILTER_NAMES) if (this.filters[name]) query.set(name, this.filters[name]);
    if (this.sort !== DEFAULT_SORT) query.set("sort", this.sort);
    if (this.pages.cursor) query.set("cursor", this.pages.cursor);
    const search = query.toString();
    return search ? `?${search}` : window.location.pathname;
  }

  /** The query of GET /api/cron/jobs for this view's page. */
  apiQuery() {
    const { tenant, is_active: active, last_status: status, function_name: fn } = this.filters;
    const query = new URLSearchParams({ limit: String(PAGE_SIZE), sort: this.sort });
    if (this.search) query.set("q", this.search);
    if (tenant === "global") query.set("has_tenant", "false");
    else if (tenant) query.set("tenant_id", tenant);
    if (active) query.set("is_active", active);
    if (status) query.set("last_status", status);
    if (fn) query.set("function_name", fn);
    if (this.pages.cursor) query.set("cursor", this.pages.cursor);
    return query;
  }

  /** Leave out what the API refused (a 422's fields, e.g. "query.last_status" or "cursor":
   * an address edited by hand, or a bookmark older than a change); whether any was. */
  forget(fields) {
    let forgot = false;
    for (const field of fields.map((name) => name.replace(/^query\./, ""))) {
      const name = { tenant_id: "tenant", has_tenant: "tenant" }[field] || field;
      if (this.filters[name]) this.filters[name] = "";
      else if (name === "sort" && this.sort !== DEFAULT_SORT) this.sort = DEFAULT_SORT;
      else if (name !== "cursor" || !this.pages.cursor) continue;
      this.pages.restart(); // a cursor belongs to its filters and sort
      forgot = true;
    }
    return forgot;
  }

  /** Put the view in the address. A change (a filter's name, "sort", "page"...) is a step
   * Back can undo, but typing more of the same search is not another; null: no change. */
  save(change) {
    const state = { before: this.pages.known ? this.pages.before : undefined };
    const address = this.address();
    const current = window.location.search || window.location.pathname;
    const same = address === current || change === null || (change === "q" && lastChange === "q");
    if (same) history.replaceState(state, "", address);
    else history.pushState(state, "", address);
    lastChange = change;
  }

  /** The view of the history entry Back or Forward went to. */
  static returnedTo() {
    lastChange = null;
    return new JobsView();
  }
}
