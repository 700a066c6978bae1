import { createHash, randomUUID } from 'node:crypto';
import type { LogEntry } from '../processing-log/writer';
import type { RetentionPolicy } from '../retention/policy';
import { subjectKey, type DocumentItem } from '../retention/retention-items';
import { ConcurrentChangeError, type RetentionStore } from '../retention/retention-store';
import {
  decideReschedule,
  RESCHEDULE_GRACE,
  type RescheduleDecision,
  type RescheduleKind,
} from '../retention/rescheduling';
import { formatPeriod } from '../retention/schedule';
import type { StoredDocuments } from '../retention/stored-documents';
import { documentFields, reasonOf } from './log-entries';

/** Name of the progress record of `retention apply` in the retention table. */
export const APPLY_PROGRESS = 'retention-apply';

/** Counts of one tenant and category: how many documents a policy change moves, and how. */
export type PlanRow = { tenant: string; category: string; items: number } & Record<
  RescheduleKind,
  number
>;

/** Where the log entries of an apply go (a `ProcessingLogWriter`). */
export interface ApplyLog {
  /** Starts the log object of a page; returns its key. */
  begin(): string;
  add(entry: LogEntry): unknown;
  flush(): Promise<unknown>;
  wasWritten(key: string): Promise<boolean>;
}

/** The progress record of an apply run: where the next page starts, and an unconfirmed log. */
interface ApplyProgress {
  readonly run: string;
  /** Digest of the policy, instructions and options the run applies. */
  readonly config: string;
  readonly startedAt: string;
  readonly startKey?: Record<string, unknown>;
  /** The log object of the page being finished, and where the page after it starts. */
  readonly pending?: { readonly logKey: string; readonly nextKey?: Record<string, unknown> };
}

/** How an apply runs. */
export interface ApplyOptions {
  readonly atOnce: boolean;
  /** Digest of the configuration applied: an interrupted run resumes only for the same one. */
  readonly config: string;
  /** Items read per page. @default 100 */
  readonly pageSize?: number;
  /** Abandon an interrupted run of another configuration instead of refusing to start. */
  readonly restart?: boolean;
}

/** What one apply did. */
export interface ApplyResult {
  readonly run: string;
  /** Set when this invocation continued an interrupted run (its start time). */
  readonly resumedFrom?: string;
  readonly rows: PlanRow[];
  /** Documents whose due date this invocation changed (or logged for the interrupted part). */
  readonly rescheduled: number;
  /** Of those, due under the new policy but given the grace period instead. */
  readonly deferred: number;
}

/** Thrown when an interrupted run of another configuration is under way. */
export class InterruptedRunError extends Error {
  constructor(readonly startedAt: string) {
    super(
      `an apply of another policy version started at ${startedAt} was interrupted: apply that ` +
        'version again to finish it, or pass --restart (the changes of its last page may then ' +
        'stay unlogged)',
    );
    this.name = 'InterruptedRunError';
  }
}

/** Adds a decision to the counts of its tenant and category. */
function count(rows: Map<string, PlanRow>, item: DocumentItem, d: RescheduleDecision): void {
  const key = `${item.tenant}\u0000${item.category}`;
  let row = rows.get(key);
  if (!row) {
    row = { tenant: item.tenant, category: item.category, items: 0 } as PlanRow;
    for (const k of ['unchanged', 'earlier', 'later', 'at-once', 'held', 'waiting', 'skipped'])
      row[k as RescheduleKind] = 0;
    rows.set(key, row);
  }
  row.items += 1;
  row[d.kind] += 1;
}

const sorted = (rows: Map<string, PlanRow>) =>
  [...rows.values()].sort(
    (a, b) => a.tenant.localeCompare(b.tenant) || a.category.localeCompare(b.category),
  );

/**
 * Applies the current retention policy and controllers' instructions to what is already stored:
 * every document item whose due date the policy now sets differently is rescheduled (see
 * {@link decideReschedule} for held, restricted and waiting documents, and for those the change
 * makes due at once).
 *
 * `plan` only counts. `apply` reads the table page by page and, per page: saves each change
 * conditionally on the item's revision (the store's `saveDocument`; a concurrent change is re-read
 * and decided again), marking the item with the run; writes one `rescheduled` record per change
 * (old and new due date in its reason, the new one in `retainUntil`); then moves its progress
 * record (in the retention table) to the next page. Interrupted anywhere, the next apply of the
 * same configuration continues at the page it stopped in: a change saved but not logged is found
 * by its mark and logged then, a page whose log object was written is not logged twice.
 */
export class PolicyChange {
  constructor(
    private readonly policy: RetentionPolicy,
    private readonly store: RetentionStore,
    private readonly documents: StoredDocuments,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Counts, per tenant and category, what an apply would do now (changes nothing). */
  async plan(options: { atOnce: boolean }): Promise<PlanRow[]> {
    const rows = new Map<string, PlanRow>();
    const closures = new Map<string, string | undefined>();
    for await (const item of this.documents.all()) {
      const decision = await this.decide(item, closures, options.atOnce);
      if (decision) count(rows, item, decision);
    }
    return sorted(rows);
  }

  /** Reschedules what the policy moves (see the class); resumes an interrupted run. */
  async apply(log: ApplyLog, options: ApplyOptions): Promise<ApplyResult> {
    let progress = await this.documents.getProgress<ApplyProgress>(APPLY_PROGRESS);
    if (progress && progress.config !== options.config && !options.restart)
      throw new InterruptedRunError(progress.startedAt);
    const resumedFrom = progress?.config === options.config ? progress.startedAt : undefined;
    if (!resumedFrom) {
      progress = {
        run: randomUUID().replace(/-/g, '').slice(0, 16),
        config: options.config,
        startedAt: this.now().toISOString(),
      };
      await this.documents.putProgress(APPLY_PROGRESS, progress);
    }
    let current = progress!;
    const rows = new Map<string, PlanRow>();
    let rescheduled = 0;
    let deferred = 0;
    for (;;) {
      if (current.pending && (await log.wasWritten(current.pending.logKey))) {
        current = { ...current, startKey: current.pending.nextKey, pending: undefined };
        if (!current.startKey) break;
      }
      const page = await this.documents.scan(current.startKey, options.pageSize ?? 100);
      const entries = await this.applyPage(page.items, current.run, options.atOnce, rows);
      rescheduled += entries.length;
      deferred += entries.filter((e) => e.reason?.includes('due-at-once-deferred:')).length;
      if (entries.length > 0) {
        const logKey = log.begin();
        current = { ...current, pending: { logKey, nextKey: page.next } };
        await this.documents.putProgress(APPLY_PROGRESS, current);
        for (const entry of entries) log.add(entry);
        await log.flush();
      }
      current = { ...current, startKey: page.next, pending: undefined };
      if (!page.next) break;
      await this.documents.putProgress(APPLY_PROGRESS, current);
    }
    await this.documents.deleteProgress(APPLY_PROGRESS);
    return {
      run: current.run,
      ...(resumedFrom ? { resumedFrom } : {}),
      rows: sorted(rows),
      rescheduled,
      deferred,
    };
  }

  /** Saves the changes of one page; returns the log entries of what this run changed in it. */
  private async applyPage(
    items: readonly DocumentItem[],
    run: string,
    atOnce: boolean,
    rows: Map<string, PlanRow>,
  ): Promise<LogEntry[]> {
    const closures = new Map<string, string | undefined>();
    const entries: LogEntry[] = [];
    for (const found of items) {
      let item: DocumentItem | undefined = found;
      for (let attempt = 0; item; attempt += 1) {
        if (item.rescheduled?.run === run) {
          // Changed by this run before it was interrupted: log it now.
          entries.push(this.entryOf(item, run));
          break;
        }
        const decision = await this.decide(item, closures, atOnce);
        if (!decision) break;
        if (decision.to === undefined) {
          count(rows, item, decision);
          break;
        }
        try {
          const saved = await this.store.saveDocument({
            ...item,
            dueAt: decision.to,
            rescheduled: { run, from: decision.from ?? null, to: decision.to, ...noteOf(decision) },
          });
          count(rows, item, decision);
          entries.push(this.entryOf(saved, run));
          break;
        } catch (error) {
          if (!(error instanceof ConcurrentChangeError) || attempt >= 4) throw error;
          item = await this.store.getDocument(item.pk, item.sk);
        }
      }
    }
    return entries;
  }

  private async decide(
    item: DocumentItem,
    closures: Map<string, string | undefined>,
    atOnce: boolean,
  ): Promise<RescheduleDecision | undefined> {
    let closedAt: string | undefined;
    if (this.policy.find(item.category)?.anchor === 'relationship-end') {
      const pk = subjectKey(item.tenant, item.subject);
      if (!closures.has(pk))
        closures.set(pk, (await this.store.getSubject(item.tenant, item.subject)).closedAt);
      closedAt = closures.get(pk);
    }
    return decideReschedule(item, this.policy, closedAt, { now: this.now(), atOnce });
  }

  /** The `rescheduled` record of a document this run changed (from the mark it left on it). */
  private entryOf(item: DocumentItem, run: string): LogEntry {
    const category = this.policy.forTenant(item.tenant).find(item.category);
    const mark = item.rescheduled!;
    return {
      ...documentFields(item, category),
      retainUntil: mark.to,
      recordId: createHash('sha256')
        .update(`rescheduled|${run}|${item.pk}|${item.sk}`)
        .digest('hex')
        .slice(0, 32),
      operation: 'rescheduled',
      outcome: 'success',
      reason: reasonOf(
        category,
        'policy-change',
        `from:${mark.from ?? 'none'}`,
        `to:${mark.to}`,
        mark.note,
        item.held ? 'legal-hold' : undefined,
        item.restricted ? 'restricted-until-duty-end' : undefined,
      ),
    };
  }
}

/** What the log says about a change beyond its dates. */
function noteOf(d: RescheduleDecision): { note?: string } {
  if (d.deferred) return { note: `due-at-once-deferred:${formatPeriod(RESCHEDULE_GRACE)}` };
  return d.kind === 'at-once' ? { note: 'due-at-once' } : {};
}
