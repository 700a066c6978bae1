import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logObjectsOf, type ReadableWriter } from '../processing-log/log-object-check';
import type { LogEntry } from '../processing-log/writer';
import {
  allExpiryShards,
  allOpenRequestShards,
  allWaitingShards,
  DEFERRED_BY_LEGAL_HOLD,
  type DocumentItem,
  type RequestItem,
} from '../retention/retention-items';
import type { OperationContext } from './context';
import { SWEEP_METRICS } from './sweep-metrics';
import { DocumentExpiry } from './retention-expiry';

/** What the sweeper emits its metrics through: a Powertools `Metrics` (EMF on stdout). */
export type SweepMetrics = Pick<Metrics, 'addMetric' | 'publishStoredMetrics'>;

/**
 * The sweeper's default metrics: a Powertools `Metrics` whose namespace and `service` dimension
 * are those of {@link SWEEP_METRICS}, set explicitly so that no environment variable
 * (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`) can move the metric away from its
 * alarm.
 */
export function sweepMetrics(): Metrics {
  return new Metrics({
    namespace: SWEEP_METRICS.namespace,
    serviceName: SWEEP_METRICS.service,
  });
}

/** Options of a {@link RetentionSweeper}. */
export interface RetentionSweeperOptions {
  /**
   * Where the sweep's metrics go (see {@link SWEEP_METRICS}).
   * @default {@link sweepMetrics}
   */
  readonly metrics?: SweepMetrics;
}

/**
 * Where the sweeper writes its log entries (a `ProcessingLogWriter`), and reads back whether an
 * earlier object holds an expiry's records (see `DocumentExpiry`, `logObjectsOf`).
 */
export interface SweepLog extends ReadableWriter {
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
  /** Requests still open after the run. */
  readonly openRequests: number;
  /** Open requests past their deadline: the `OverdueRequests` metric of this run. */
  readonly overdueRequests: number;
  /** Erasure requests deferred by a legal hold that this run found done and completed. */
  readonly completedRequests: number;
  /** Documents whose clock waits for a closure: the `WaitingForClosure` metric of this run. */
  readonly waitingForClosure: number;
  /** Age in whole days of the oldest of them (0 when none): `OldestWaitingForClosureDays`. */
  readonly oldestWaitingForClosureDays: number;
  readonly entries: LogEntry[];
}

/** What the review of the open requests found. */
interface RequestReview {
  readonly open: number;
  readonly overdue: number;
  readonly completed: number;
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
 *
 * Then it reviews the open requests (each must be answered within one month): counts those past
 * their deadline, emits the count as `OverdueRequests` (alarmed above zero), and completes the
 * erasures a legal hold deferred once they have run.
 */
export class RetentionSweeper {
  private readonly expiry: DocumentExpiry;
  private readonly metrics: SweepMetrics;

  constructor(
    private readonly ctx: Omit<OperationContext, 'pseudonyms'>,
    options: RetentionSweeperOptions = {},
  ) {
    this.expiry = new DocumentExpiry(ctx);
    this.metrics = options.metrics ?? sweepMetrics();
  }

  /**
   * Sweeps every shard once (`shouldStop` is checked between pages: remaining time), then
   * reviews the open requests and emits `OverdueRequests`, zero included, so the alarm always has
   * data. The review and the metric run even when the document pass failed (which is rethrown).
   */
  async sweep(log: SweepLog, shouldStop: () => boolean = () => false): Promise<SweepResult> {
    let documents: Awaited<ReturnType<RetentionSweeper['sweepDocuments']>> | undefined;
    let failure: unknown;
    try {
      documents = await this.sweepDocuments(log, shouldStop);
    } catch (error) {
      failure = error;
    }
    const requests = await this.reviewRequests(log);
    const waiting = await this.reviewWaiting();
    this.metrics.addMetric(SWEEP_METRICS.overdueRequests, MetricUnit.Count, requests.overdue);
    this.metrics.addMetric(SWEEP_METRICS.waitingForClosure, MetricUnit.Count, waiting.count);
    this.metrics.addMetric(
      SWEEP_METRICS.oldestWaitingForClosureDays,
      MetricUnit.Count,
      waiting.oldestDays,
    );
    this.metrics.publishStoredMetrics();
    if (!documents) throw failure;
    return {
      ...documents,
      entries: [...documents.entries, ...requests.entries],
      openRequests: requests.open,
      overdueRequests: requests.overdue,
      completedRequests: requests.completed,
      waitingForClosure: waiting.count,
      oldestWaitingForClosureDays: waiting.oldestDays,
    };
  }

  private async sweepDocuments(
    log: SweepLog,
    shouldStop: () => boolean,
  ): Promise<Pick<SweepResult, 'examined' | 'expired' | 'skipped' | 'truncated' | 'entries'>> {
    const nowSeconds = Math.floor(this.ctx.now().getTime() / 1000);
    const objects = logObjectsOf(log);
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
          const result = await this.expiry.sweepOne(hit, objects);
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

  /**
   * Reads every shard of the `open-requests` index (open requests only: a sparse index, no scan)
   * and counts those past their deadline. An erasure deferred by a legal hold whose subject has
   * no hold and no document still marked for it (the sweep above erased them) is completed here:
   * logged `request-completed` first, then marked in the table, so a crash in between only logs
   * it twice (the log queries take the first completion).
   */
  private async reviewRequests(log: SweepLog): Promise<RequestReview> {
    const now = this.ctx.now().toISOString();
    let open = 0;
    let overdue = 0;
    const done: RequestItem[] = [];
    for (const shard of allOpenRequestShards()) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.ctx.store.queryOpenRequests(shard, start);
        for (const request of page.items) {
          if (await this.deferredErasureDone(request)) {
            done.push(request);
            continue;
          }
          open += 1;
          if (request.deadline < now) overdue += 1;
        }
        start = page.next;
      } while (start);
    }
    if (done.length === 0) return { open, overdue, completed: 0, entries: [] };
    const entries: LogEntry[] = done.map((request) => ({
      tenant: request.tenant!,
      subject: request.subject!,
      requestId: request.requestId,
      deadline: request.deadline,
      operation: 'request-completed',
      outcome: 'success',
      reason: `erased-after-legal-hold${now > request.deadline ? ';late' : ''}`,
    }));
    log.begin();
    for (const entry of entries) log.add(entry);
    await log.flush();
    for (const request of done)
      await this.ctx.store.completeRequest(request, now, 'erased-after-legal-hold');
    return { open, overdue, completed: done.length, entries };
  }

  /**
   * Counts the documents waiting for a closure (every shard of the sparse `waiting-for-closure`
   * index, no scan) and the age in whole days of the oldest: a producer that never sends the
   * closure shows as an age that only grows.
   */
  private async reviewWaiting(): Promise<{ count: number; oldestDays: number }> {
    const shards = await Promise.all(
      allWaitingShards().map((shard) => this.ctx.store.waitingShard(shard)),
    );
    const count = shards.reduce((sum, s) => sum + s.count, 0);
    const oldest = shards
      .map((s) => s.oldest)
      .filter((t) => t !== undefined)
      .sort()[0];
    const oldestDays = oldest
      ? Math.max(0, Math.floor((this.ctx.now().getTime() - Date.parse(oldest)) / 86_400_000))
      : 0;
    return { count, oldestDays };
  }

  /** True when an erasure deferred by a legal hold has nothing left to erase. */
  private async deferredErasureDone(request: RequestItem): Promise<boolean> {
    if (request.outcome !== DEFERRED_BY_LEGAL_HOLD || !request.tenant || !request.subject)
      return false;
    const { store } = this.ctx;
    const record = await store.getSubject(request.tenant, request.subject);
    if (record.holds) return false;
    const documents = await store.listDocuments(request.tenant, request.subject);
    return !documents.some((d) => d.erasurePending);
  }
}
