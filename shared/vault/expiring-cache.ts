/**
 * A small in-memory cache whose entries expire a fixed time after they were set, with a bound
 * on the number of entries (the oldest insertion goes first). Time comes from an injected clock,
 * so tests drive it with a fake one.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  /**
   * @param ttlMs how long an entry is served after it was set (must be positive)
   * @param now the clock, in milliseconds
   * @param maxEntries the most entries kept at once @default 10000
   */
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly maxEntries: number = 10_000,
  ) {
    if (!(ttlMs > 0)) throw new RangeError('ExpiringCache: ttlMs must be positive');
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError('ExpiringCache: maxEntries must be a positive integer');
  }

  /** The value of `key`, or undefined when absent or expired (an expired entry is dropped). */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value` under `key` for the cache's TTL, evicting the oldest entries beyond the bound. */
  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  /** Removes `key`; true when it was present. */
  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Removes every key that starts with `prefix`; returns how many were removed. */
  deleteByPrefix(prefix: string): number {
    let removed = 0;
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix)) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Number of entries held, expired ones included until they are next looked up. */
  get size(): number {
    return this.entries.size;
  }
}
