// A push-fed async iterator: what an event source (an eventfd watch, an
// inotify watch) hands to `for await`.
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private waiting?: (r: IteratorResult<T>) => void;
  private done = false;

  constructor(private onClose: () => void = () => {}) {}

  push(item: T): void {
    if (this.done) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: item, done: false });
    } else this.items.push(item);
  }

  /** No more items: pending and later next() calls resolve done (queued items are still delivered). */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.onClose();
    if (this.waiting) this.waiting({ value: undefined, done: true });
    this.waiting = undefined;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.items = [];
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
