import type { LogEntry } from '../processing-log/writer';
import { allExpiryShards, type DocumentItem } from '../retention/retention-store';
import type { OperationContext } from './context';
import { DocumentExpiry } from './retention-expiry';

/** Where the sweeper writes its log entries (a `ProcessingLogWriter`). */
export interface SweepLog {
  /** Starts a new log object (before each index page). */
  begin(): unknown;
  add(entry: LogEntry): unknown;
  flush(): Promise<unknown>;
}

/** What one sweep did. */
export interface SweepResult {
  /** Index hits examined. */
  readonly examined: number;
  /** Documents removed (expired, or erased after a hold). */
  readonly expired: number;
  /** Documents skipped (legal hold, concurrent change). */
  readonly skipped: number;
  /** True when the sweep stopped early (time budget); the next run continues. */
  readonly truncated: boolean;
  readonly entries: LogEntry[];
}

/**
 * The retention sweeper: runs on a schedule (hourly) and expires every document whose `expiresAt`
 * has passed that TTL has not removed yet, by querying each shard of the `by-expiry` index
 * (`expiresAt <= now`), never scanning the table. With an hourly schedule a document is handled
 * within about one hour of its due time (plus the run's own duration), instead of TTL's
 * "typically within a few days".
 *
 * Per index page: claim and purge each due item, write the log, then delete the retention items.
 * A crash before the log is written leaves the items claimed (`expiring`) and due, so the next
 * run purges them again (idempotent) and logs them: no deletion goes unlogged.
 */
export class RetentionSweeper {
  private readonly expiry: DocumentExpiry;

  constructor(private readonly ctx: OperationContext) {
    this.expiry = new DocumentExpiry(ctx);
  }

  /** Sweeps every shard once; `shouldStop` is checked between pages (remaining time). */
  async sweep(log: SweepLog, shouldStop: () => boolean = () => false): Promise<SweepResult> {
    const nowSeconds = Math.floor(this.ctx.now().getTime() / 1000);
    let examined = 0;
    let expired = 0;
    let skipped = 0;
    const entries: LogEntry[] = [];
    for (const shard of allExpiryShards()) {
      let start: Record<string, unknown> | undefined;
      do {
        if (shouldStop()) return { examined, expired, skipped, truncated: true, entries };
        const page = await this.ctx.store.queryDue(shard, nowSeconds, start);
        if (page.items.length === 0) break;
        log.begin();
        const claimed: DocumentItem[] = [];
        for (const hit of page.items) {
          examined += 1;
          const result = await this.expiry.sweepOne(hit);
          if (result.claimed) {
            claimed.push(result.claimed);
            expired += 1;
          } else if (result.entries.length > 0) skipped += 1;
          for (const entry of result.entries) {
            log.add(entry);
            entries.push(entry);
          }
        }
        await log.flush();
        for (const item of claimed) await this.expiry.forget(item);
        start = page.next;
      } while (start);
    }
    return { examined, expired, skipped, truncated: false, entries };
  }
}
