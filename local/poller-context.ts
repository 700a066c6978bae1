import type { TemplateFunction } from './template-model';

/** Counters of what the runtime did, by function key. */
export interface RuntimeStats {
  invocations: Record<string, number>;
  errors: Record<string, number>;
  failedItems: Record<string, number>;
  deliveredRecords: Record<string, number>;
}

/** Adds `n` to a counter of `stats`. */
export function count(counter: Record<string, number>, key: string, n = 1): void {
  counter[key] = (counter[key] ?? 0) + n;
}

/** What a poller or a schedule needs from the runtime that runs it. */
export interface PollerContext {
  readonly region: string;
  readonly stats: RuntimeStats;
  readonly log: (line: string) => void;
  /** False once the runtime stops: loops end after their current batch. */
  readonly isRunning: () => boolean;
  /** Invokes a function as Lambda would and returns its response. */
  readonly invoke: (fn: TemplateFunction, event: unknown) => Promise<unknown>;
}

/** A partial batch response, as handlers return it. */
export type BatchResponse = { batchItemFailures?: Array<{ itemIdentifier: string }> } | undefined;

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
