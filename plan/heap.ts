/**
 * A binary min-heap of small integers (agent indices) under a caller-supplied order. The
 * scheduler pops the best agent, charges it, and pushes it back, so one placement costs
 * O(log agents) instead of a scan of every agent.
 */
export class IndexHeap {
  /**
   * `before(a, b)` is true when `a` must come out before `b`; it must be a strict total order.
   * `items` (taken over, not copied) are heapified bottom-up in O(n), cheaper than n pushes.
   */
  constructor(
    private readonly before: (a: number, b: number) => boolean,
    private readonly items: number[] = [],
  ) {
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  get size(): number {
    return this.items.length;
  }

  push(item: number): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!this.before(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  /** Removes and returns the first item, or undefined when empty. */
  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    this.siftDown(0);
    return top;
  }

  private siftDown(start: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[start]!;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.before(items[r]!, items[l]!)) c = r;
      if (!this.before(items[c]!, item)) break;
      items[i] = items[c]!;
      i = c;
    }
    items[i] = item;
  }
}
