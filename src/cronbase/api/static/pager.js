// Paging a list by the API's cursors. A cursor only leads forward (to the page after the one
// that gave it), so going back needs the cursors of the pages already passed: Pages keeps
// them, the first page's being null.

export class Pages {
  /** `cursor`: the shown page's (null: the first); `before`: those of the pages before it.
   * A page opened by its address alone (a bookmark) has a cursor but no `before`: its place
   * is unknown, and going back leads to the first page. */
  constructor(cursor = null, before = undefined) {
    this.cursor = cursor;
    this.known = Array.isArray(before) || cursor === null;
    this.before = this.known ? [...(before || [])] : [null];
  }

  /** The shown page's number, from 1. */
  get number() {
    return this.before.length + 1;
  }

  /** The position of the shown page's first row, from 0, with pages of `size` rows. */
  firstIndex(size) {
    return this.before.length * size;
  }

  forward(nextCursor) {
    this.before.push(this.cursor);
    this.cursor = nextCursor;
  }

  back() {
    if (!this.known) return this.restart();
    this.cursor = this.before.pop() ?? null;
  }

  restart() {
    this.cursor = null;
    this.before = [];
    this.known = true;
  }
}

/** "51–100" with its thousands separated: the rows a page of `shown` rows holds. */
export function rowRange(pages, size, shown) {
  const first = pages.firstIndex(size);
  return `${(first + 1).toLocaleString()}\u2013${(first + shown).toLocaleString()}`;
}
