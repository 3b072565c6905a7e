// Allowed sessions waiting for their end, in the order they were first
// seen, with the oldest taken out when there are too many. A Map alone keeps
// that order, but taking its first entry (`entries().next()`) after many
// deletions from its front is not cheap: V8 walks over the deleted slots
// until the table is rehashed, and a log whose exits never match its allows
// (a transfer log missing) makes that thousands of slots per record — 1.4 s
// of a 1,000,000-record report. Here the order is a queue beside the Map:
// every operation is O(1), amortised, and the order is exactly the Map's
// (setting a known id keeps its place, as Map.set does).

/** What is kept per session: its id with whatever the caller needs (one object per session, no wrapper). */
export interface Keyed {
  readonly id: string;
}

export class OpenSessions<T extends Keyed> {
  private readonly byId = new Map<string, T>();
  /** Entries in first-seen order; an entry no longer in byId (ended, evicted, or replaced after a delete) is dead. */
  private queue: T[] = [];
  private head = 0;

  get size(): number {
    return this.byId.size;
  }

  /** Entries the queue holds, dead ones included: at most 2 × size + 1024 after any operation. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  /** Add a session; one already open with that id keeps its place and takes the new value's fields (as Map.set keeps a key's place). */
  set(value: T): void {
    const e = this.byId.get(value.id);
    if (e) {
      Object.assign(e, value);
      return;
    }
    this.byId.set(value.id, value);
    this.queue.push(value);
  }

  delete(id: string): boolean {
    if (!this.byId.delete(id)) return false;
    this.compact();
    return true;
  }

  /** Take out the oldest; undefined when there is none. */
  shift(): T | undefined {
    while (this.head < this.queue.length) {
      const e = this.queue[this.head++]!;
      if (this.byId.get(e.id) !== e) continue;
      this.byId.delete(e.id);
      this.compact();
      return e;
    }
    return undefined;
  }

  /** Every entry, oldest first (a copy: the caller may delete while going through it). */
  entries(): T[] {
    return [...this.byId.values()];
  }

  /** Drop dead entries once they outnumber the live ones, so the queue stays within a small factor of size. */
  private compact(): void {
    const waiting = this.queue.length - this.head;
    if (waiting > 2 * this.byId.size + 1024) {
      this.queue = this.queue.slice(this.head).filter((e) => this.byId.get(e.id) === e);
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
