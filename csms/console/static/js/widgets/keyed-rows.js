// Rows kept by key, so that a live update changes a row in place: a note being typed, an open
// <details> or the focus in one row survive updates of it and of the others. A row is only
// moved when the order changes around it.

export class KeyedRows {
  /**
   * `build(item)` → {node, update(item)}; `keyOf(item)` → its key; the parent's first `skip`
   * children are not rows (a table's caption and head, when each row is a tbody).
   */
  constructor(parent, keyOf, build, skip = 0) {
    this.parent = parent;
    this.skip = skip;
    this.keyOf = keyOf;
    this.build = build;
    this.rows = new Map();
  }

  /** Shows exactly `items`, in their order. */
  set(items) {
    const keys = new Set(items.map(this.keyOf));
    for (const [key, row] of this.rows) {
      if (!keys.has(key)) {
        row.node.remove();
        this.rows.delete(key);
      }
    }
    items.forEach((item, i) => {
      const key = this.keyOf(item);
      let row = this.rows.get(key);
      if (row) row.update(item);
      else this.rows.set(key, (row = this.build(item)));
      const at = this.parent.children[this.skip + i] ?? null;
      if (at !== row.node) this.parent.insertBefore(row.node, at);
    });
  }

  get size() {
    return this.rows.size;
  }
}
