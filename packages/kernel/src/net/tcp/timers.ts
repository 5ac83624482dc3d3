// The layer's timer queue: a binary min-heap of (time, connection) in two parallel arrays (no
// object per entry). A connection keeps one live entry, at `scheduledAt`; when its earliest
// timer moves earlier it pushes a new entry and the old one goes stale, when it moves later
// the old entry fires early and the connection re-schedules. Stale entries are recognised
// on pop (their time is not the connection's scheduledAt) and skipped. So poll() touches only
// connections with something due, however many sit idle or in TIME-WAIT.

export interface Scheduled {
  /** Time of this item's live entry in the heap, Infinity when it has none. */
  scheduledAt: number;
}

export class TimerHeap<T extends Scheduled> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  /** Makes sure `item` is woken at `at` or earlier. */
  schedule(item: T, at: number): void {
    if (at >= item.scheduledAt) return;
    item.scheduledAt = at;
    const times = this.times, items = this.items;
    let i = times.length;
    times.push(at);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= at) break;
      times[i] = times[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = at;
    items[i] = item;
  }

  /** The earliest live entry's time, Infinity if none (drops stale entries on top). */
  peek(): number {
    while (this.times.length > 0 && this.items[0]!.scheduledAt !== this.times[0]) this.pop();
    return this.times.length > 0 ? this.times[0]! : Infinity;
  }

  /** Moves every item due at `now` into `out` (each clears its scheduledAt). */
  takeDue(now: number, out: T[]): void {
    while (this.peek() <= now) {
      const item = this.items[0]!;
      item.scheduledAt = Infinity;
      this.pop();
      out.push(item);
    }
  }

  private pop(): void {
    const times = this.times, items = this.items;
    const lastTime = times.pop()!;
    const lastItem = items.pop()!;
    const n = times.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && times[child + 1]! < times[child]!) child++;
      if (times[child]! >= lastTime) break;
      times[i] = times[child]!;
      items[i] = items[child]!;
      i = child;
    }
    times[i] = lastTime;
    items[i] = lastItem;
  }
}
