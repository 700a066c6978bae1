import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { createHash } from 'node:crypto';
import { PermanentError } from '../errors';
import { FUNCTIONS } from '../functions/declarations';
import { logObjectsOf, type LogObjects } from '../processing-log/log-object-check';
import { logPointerDecision } from '../processing-log/log-pointer';
import type { LogEntry } from '../processing-log/writer';
import {
  keyDestroying,
  relationshipEndOf,
  reschedule,
  subjectKey,
  tombstoneOf,
  vaultRefOf,
  type DocumentItem,
  type SubjectRecord,
} from '../retention/retention-items';
import { epochSeconds } from '../retention/schedule';
import type { VaultObject } from '../vault/document-vault';
import { vaultKeyOf, type VaultDocumentRef } from '../vault/vault-ref';
import type { OperationContext } from './context';
import { documentFields, reasonOf } from './log-entries';
import { DocumentExpiry } from './retention-expiry';
import { sweepMetrics, type SweepLog, type SweepMetrics } from './retention-sweep';
import { SWEEP_METRICS } from './sweep-metrics';
import { vaultMetadataFrom, type VaultMetadata } from './vault-metadata';

/**
 * How old a vault object's newest version must be before the reconciliation touches it: an upload
 * writes its vault object before its retention item, so a younger object may belong to an upload
 * still running or being retried. The upload queue redelivers a failed upload after its visibility
 * timeout (six times the upload's 30 s timeout) and dead-letters it after five receives: about 15
 * minutes in all. A day leaves a wide margin; a later redrive from the dead-letter queue writes a
 * new version, which starts the grace period again.
 */
export const RECONCILIATION_GRACE_MS = 24 * 3600 * 1000;

/**
 * How often a pass over the whole vault starts: a pass that completed is not started again before
 * this (the sweeper's hourly runs in between cost one read of the progress record).
 */
export const RECONCILIATION_INTERVAL_MS = 24 * 3600 * 1000;

/** Name of the reconciliation's progress record (`pk = OPS#vault-reconciliation`). */
export const RECONCILIATION_PROGRESS = 'vault-reconciliation';

/** How long a reconciliation marker is kept (TTL): far past any re-run of its page. */
const MARKER_KEPT_SECONDS = 30 * 24 * 3600;

/** How long after a marker its log object may still be in flight: the sweeper's timeout. */
const IN_FLIGHT_MS = FUNCTIONS['retention-sweep'].timeoutSeconds * 1000;

/** Where the reconciliation stands: the last vault key it finished, between runs. */
interface ReconciliationProgress {
  /** Keys after this one are still to be visited in the current pass. */
  readonly afterKey?: string;
  /** When the last pass completed (ISO); absent while one is under way. */
  readonly completedAt?: string;
}

/**
 * The decision on one vault object without a retention item, saved before its effect (`sk =
 * RECONCILE#<id>` in the subject's partition): its records are logged first, then the effect is
 * applied; a re-run that finds the marker applies the same effect and logs the records only when
 * the log object it names does not hold them.
 */
interface ReconciliationMarker {
  pk: string;
  sk: string;
  kind: 'reconciliation';
  /** `restore`: create the retention item; `delete`: remove every version of the object. */
  action: 'restore' | 'delete';
  ref: VaultDocumentRef;
  /** With `restore`: the item to create. */
  item?: DocumentItem;
  entries: LogEntry[];
  /** Log object the records were queued for, and when (see `logPointerDecision`). */
  logObjectKey: string;
  at: string;
  /** TTL attribute. */
  expiresAt: number;
}

/** What one decision leads to. */
type Decision =
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'expire'; readonly item: DocumentItem }
  | { readonly kind: 'marker'; readonly marker: ReconciliationMarker };

/** What one reconciliation run did. */
export interface ReconciliationResult {
  /** Vault keys visited. */
  readonly examined: number;
  /** Objects older than the grace period with no retention item: the `VaultOrphans` metric. */
  readonly orphans: number;
  /** Items rebuilt from their object (held, restricted or scheduled). */
  readonly restored: number;
  /** Objects removed (retention over, or key destroyed). */
  readonly deleted: number;
  /** Orphans left alone this run, by reason (no personal data). */
  readonly skipped: Readonly<Record<string, number>>;
  /** True when the run stopped before the end of the vault; the next run continues. */
  readonly truncated: boolean;
  readonly entries: LogEntry[];
}

/** Options of a {@link VaultReconciler}. */
export interface VaultReconcilerOptions {
  /** Versions per listing call. @default 1000 */
  readonly pageSize?: number;
  /** @default {@link RECONCILIATION_GRACE_MS} */
  readonly graceMs?: number;
  /** @default {@link RECONCILIATION_INTERVAL_MS} */
  readonly intervalMs?: number;
  /**
   * Where the `VaultOrphans` metric goes (see {@link SWEEP_METRICS}).
   * @default {@link sweepMetrics}
   */
  readonly metrics?: SweepMetrics;
}

/**
 * Finds vault objects that no retention item knows (a TTL removal whose stream record was lost, an
 * expiry that died between its item and its object, an upload that stored and never wrote its
 * item) and settles each, so that no document stays in the vault with nobody to delete it:
 *
 * - younger than {@link RECONCILIATION_GRACE_MS}, or under a destruction in progress (an erasure's
 *   or expiry's mark on the subject): left alone, an upload or a destroyer is at work;
 * - its subject key destroyed (crypto-shredded), or no current version left: every version is
 *   removed (`erased`, `vault-object-without-item;…`);
 * - its retention over and no legal hold: expired as the TTL stream expires a removed item (a
 *   claim, then the purge: `expired`, `via-reconciliation`);
 * - otherwise its retention item is rebuilt from the object's own metadata (category, document
 *   date, upload receipt) and the subject record (closure, hold, erasure): held, restricted or
 *   scheduled, logged `stored/kept` with the reason and the new due date.
 *
 * Lists the vault in key order, one page per listing call, and saves the last key it finished
 * after each page (`OPS#vault-reconciliation`), so a vault of any size is covered across runs,
 * each stopping within the function's time. Per page: decisions and markers first, the log
 * written, then the effects; a crash anywhere is settled by the markers on the next run.
 */
export class VaultReconciler {
  private readonly expiry: DocumentExpiry;
  private readonly pageSize: number;
  private readonly graceMs: number;
  private readonly intervalMs: number;
  private readonly metrics: SweepMetrics;

  constructor(
    private readonly ctx: Omit<OperationContext, 'pseudonyms'>,
    options: VaultReconcilerOptions = {},
  ) {
    this.expiry = new DocumentExpiry(ctx);
    this.pageSize = options.pageSize ?? 1000;
    this.graceMs = options.graceMs ?? RECONCILIATION_GRACE_MS;
    this.intervalMs = options.intervalMs ?? RECONCILIATION_INTERVAL_MS;
    this.metrics = options.metrics ?? sweepMetrics();
  }

  /**
   * Visits the vault from where the last run stopped until its end or `shouldStop()` (checked
   * after each page), and emits `VaultOrphans`, zero included, even when the run failed (rethrown).
   */
  async reconcile(
    log: SweepLog,
    shouldStop: () => boolean = () => false,
  ): Promise<ReconciliationResult> {
    let orphans = 0;
    try {
      const result = await this.pass(log, shouldStop, (n) => (orphans = n));
      return result;
    } finally {
      this.metrics.addMetric(SWEEP_METRICS.vaultOrphans, MetricUnit.Count, orphans);
      this.metrics.publishStoredMetrics();
    }
  }

  private async pass(
    log: SweepLog,
    shouldStop: () => boolean,
    found: (orphans: number) => void,
  ): Promise<ReconciliationResult> {
    const { store, vault } = this.ctx;
    const objects = logObjectsOf(log);
    const progress = await store.getProgress<ReconciliationProgress>(RECONCILIATION_PROGRESS);
    const tally = { examined: 0, orphans: 0, restored: 0, deleted: 0 };
    const skipped: Record<string, number> = {};
    const entries: LogEntry[] = [];
    const result = (truncated: boolean): ReconciliationResult => ({
      ...tally,
      skipped,
      truncated,
      entries,
    });
    // A completion ahead of the clock (a clock set back) holds no pass back.
    const since = progress?.completedAt
      ? this.ctx.now().getTime() - Date.parse(progress.completedAt)
      : undefined;
    if (since !== undefined && since >= 0 && since < this.intervalMs) return result(false);
    for await (const page of vault.objectPages(progress?.afterKey, this.pageSize)) {
      log.begin();
      const effects: ReconciliationMarker[] = [];
      const subjects = new Map<string, Promise<SubjectView>>();
      for (const object of page) {
        tally.examined += 1;
        const decision = await this.decide(object, subjects);
        if (decision.kind === 'skip') {
          if (decision.reason !== 'known')
            skipped[decision.reason] = (skipped[decision.reason] ?? 0) + 1;
          if (decision.reason !== 'known' && decision.reason !== 'within-grace')
            found((tally.orphans += 1));
          continue;
        }
        tally.orphans += 1;
        found(tally.orphans);
        const added =
          decision.kind === 'expire'
            ? await this.expiry.ttlRemoved(
                { ...decision.item, logObjectKey: objects.objectKey },
                objects,
                'reconciliation',
              )
            : await this.logged(decision.marker, objects, effects);
        if (decision.kind === 'expire' && added.some((e) => e.outcome === 'success'))
          tally.deleted += 1;
        for (const entry of added) {
          log.add(entry);
          entries.push(entry);
        }
      }
      await log.flush();
      for (const marker of effects) {
        await this.apply(marker);
        if (marker.action === 'restore') tally.restored += 1;
        else tally.deleted += 1;
      }
      await store.putProgress(RECONCILIATION_PROGRESS, {
        afterKey: page[page.length - 1].vaultKey,
      } satisfies ReconciliationProgress);
      if (shouldStop()) return result(true);
    }
    // The whole vault was visited: the next pass starts from the beginning, after the interval.
    await store.putProgress(RECONCILIATION_PROGRESS, {
      completedAt: this.ctx.now().toISOString(),
    } satisfies ReconciliationProgress);
    return result(false);
  }

  /** What to do about one vault key (see the class). */
  private async decide(
    object: VaultObject,
    subjects: Map<string, Promise<SubjectView>>,
  ): Promise<Decision> {
    const { ref } = object;
    if (!ref) return { kind: 'skip', reason: 'not-a-document-key' };
    const now = this.ctx.now();
    if (now.getTime() - Date.parse(object.newest) < this.graceMs)
      return { kind: 'skip', reason: 'within-grace' };
    const key = `${ref.tenant}/${ref.subject}`;
    if (!subjects.has(key)) subjects.set(key, this.subjectView(ref.tenant, ref.subject));
    const view = await subjects.get(key)!;
    if (view.known.has(object.vaultKey)) return { kind: 'skip', reason: 'known' };
    if (keyDestroying(view.record, ref.keyClass, now))
      return { kind: 'skip', reason: 'destruction-in-progress' };
    const facts = object.current ? await this.ctx.vault.inspect(ref) : undefined;
    const metadata = facts ? vaultMetadataFrom(facts.metadata) : undefined;
    const effect = metadata?.eventKey ?? object.newest;
    if (!facts || (await this.ctx.vault.keyDestroyed(ref, facts.keyId))) {
      // Under a legal hold nothing is deleted, not even what nobody can read any more.
      if (view.record.holds) return { kind: 'skip', reason: 'legal-hold' };
      const why = facts ? 'subject-key-destroyed' : 'no-current-version';
      return this.deletion(ref, metadata, effect, why);
    }
    if (!metadata?.document) return { kind: 'skip', reason: 'metadata-missing' };
    let item: DocumentItem;
    try {
      item = this.rebuilt(ref, metadata as RebuildableMetadata, view.record, effect, facts);
    } catch (error) {
      if (error instanceof PermanentError) return { kind: 'skip', reason: error.reason };
      throw error;
    }
    if (!item.held && item.expiresAt !== undefined && item.expiresAt <= now.getTime() / 1000)
      return { kind: 'expire', item };
    return {
      kind: 'marker',
      marker: this.markerOf('restore', ref, effect, item, this.restoredEntry(item, effect)),
    };
  }

  /** The retention items of a subject (by vault key) and its record. */
  private async subjectView(tenant: string, subject: string): Promise<SubjectView> {
    const { store } = this.ctx;
    const [record, items] = await Promise.all([
      store.getSubject(tenant, subject),
      store.listDocuments(tenant, subject),
    ]);
    return { record, known: new Set(items.map((d) => vaultKeyOf(vaultRefOf(d)))) };
  }

  /**
   * The retention item of an object, rebuilt as the upload wrote it: due date from its document
   * date and the subject's relationship, held under a legal hold, restricted when an erasure the
   * object is older than covers a category the law keeps. Its receipt is the upload's (so a late
   * redelivery of that upload is a replay), its log pointer this run's.
   */
  private rebuilt(
    ref: VaultDocumentRef,
    metadata: RebuildableMetadata,
    record: SubjectRecord,
    effect: string,
    facts: { size?: number; sha256?: string; versionId?: string },
  ): DocumentItem {
    const tenantPolicy = this.ctx.policy.forTenant(ref.tenant);
    const category = tenantPolicy.category(metadata.category);
    const now = this.ctx.now();
    const documentDate = metadata.documentDate ?? new Date(0).toISOString();
    const eventTime = metadata.eventTime ?? documentDate;
    const tombstone = tombstoneOf(record, category.id);
    const restricted =
      category.erasure === 'restrict' && tombstone !== undefined && eventTime < tombstone.time;
    const due = tenantPolicy.dueDate(category, {
      documentDate,
      closedAt: relationshipEndOf(record),
      restricted,
    });
    const pk = subjectKey(ref.tenant, ref.subject);
    return reschedule({
      pk,
      sk: `DOC#${metadata.document}`,
      kind: 'document',
      tenant: ref.tenant,
      subject: ref.subject,
      documentId: ref.documentId,
      document: metadata.document,
      category: category.id,
      keyClass: ref.keyClass,
      ...(facts.versionId ? { versionId: facts.versionId } : {}),
      size: facts.size ?? 0,
      sha256: facts.sha256 ?? '',
      state: 'active',
      ...(restricted
        ? {
            restricted: true,
            restrictionGround: category.restrictionGround,
            restrictedAt: now.toISOString(),
          }
        : {}),
      ...(record.holds ? { held: true } : {}),
      eventTime,
      documentDate,
      ...(due ? { dueAt: due.toISOString() } : {}),
      eventKey: metadata.eventKey ?? `reconciled#${effect}`,
      payloadHash: metadata.payloadHash ?? `reconciled#${effect}`,
      logObjectKey: '',
      storedAt: now.toISOString(),
      rev: 0,
    });
  }

  /** The record of an item rebuilt: kept, with its due date and why. */
  private restoredEntry(item: DocumentItem, effect: string): LogEntry {
    const category = this.ctx.policy.find(item.category);
    return {
      ...documentFields(item, category),
      operation: 'stored',
      outcome: 'kept',
      effect,
      reason: reasonOf(
        category,
        'vault-object-without-item',
        'retention-item-restored',
        item.held ? 'legal-hold' : undefined,
        item.restricted ? 'restricted-until-duty-end' : undefined,
        item.state === 'waiting-anchor' ? 'waiting-for-relationship-end' : undefined,
      ),
    };
  }

  /** The decision to remove every version of an object nobody can read or keep. */
  private deletion(
    ref: VaultDocumentRef,
    metadata: VaultMetadata | undefined,
    effect: string,
    why: 'subject-key-destroyed' | 'no-current-version',
  ): Decision {
    const category = this.ctx.policy.find(ref.keyClass);
    const entry: LogEntry = {
      tenant: ref.tenant,
      subject: ref.subject,
      category: ref.keyClass,
      document: metadata?.document ?? null,
      legalBasis: category?.legalBasis ?? null,
      purpose: category?.purpose ?? null,
      operation: 'erased',
      outcome: 'success',
      effect,
      reason: reasonOf(category, 'vault-object-without-item', why, 'all-versions-deleted'),
    };
    return { kind: 'marker', marker: this.markerOf('delete', ref, effect, undefined, entry) };
  }

  private markerOf(
    action: ReconciliationMarker['action'],
    ref: VaultDocumentRef,
    effect: string,
    item: DocumentItem | undefined,
    entry: LogEntry,
  ): ReconciliationMarker {
    const now = this.ctx.now();
    const id = createHash('sha256')
      .update(`${vaultKeyOf(ref)}#${effect}`)
      .digest('hex');
    return {
      pk: subjectKey(ref.tenant, ref.subject),
      sk: `RECONCILE#${id.slice(0, 32)}`,
      kind: 'reconciliation',
      action,
      ref,
      ...(item ? { item } : {}),
      entries: [entry],
      logObjectKey: '',
      at: now.toISOString(),
      expiresAt: epochSeconds(new Date(now.getTime() + MARKER_KEPT_SECONDS * 1000)),
    };
  }

  /**
   * Saves the marker (or finds the one an earlier run saved) pointing at this run's log object,
   * and returns the records to log now: none when the object it names holds them, or while that
   * object may still be written (then its effect waits for a later run too).
   */
  private async logged(
    fresh: ReconciliationMarker,
    log: LogObjects,
    effects: ReconciliationMarker[],
  ): Promise<LogEntry[]> {
    const { store } = this.ctx;
    const at = this.ctx.now().toISOString();
    const marker = await store.saveMarker({ ...fresh, logObjectKey: log.objectKey, at });
    if (marker.logObjectKey === log.objectKey && marker.at === at) {
      effects.push(marker);
      return marker.entries;
    }
    const decision = await logPointerDecision(
      log,
      marker,
      marker.entries[0],
      this.ctx.now(),
      IN_FLIGHT_MS,
    );
    if (decision === 'in-flight') return [];
    effects.push(marker);
    if (decision === 'logged') return [];
    if (
      decision === 'log-again' &&
      !(await store.moveMarker(marker, marker.logObjectKey, log.objectKey, at))
    )
      return [];
    return marker.entries;
  }

  /** Applies a logged decision: the item created (unless one is there), or every version removed. */
  private async apply(marker: ReconciliationMarker): Promise<void> {
    const { ref } = marker;
    if (marker.action === 'delete') {
      await this.ctx.vault.deleteAllVersions(ref.tenant, ref.subject, ref.keyClass, ref.documentId);
      return;
    }
    const item = { ...marker.item!, logObjectKey: marker.logObjectKey, storedAt: marker.at };
    await this.ctx.store.createDocument(item);
  }
}

/** What the reconciliation reads of a subject once per page. */
interface SubjectView {
  readonly record: SubjectRecord;
  /** Vault keys of its retention items. */
  readonly known: ReadonlySet<string>;
}

/** Metadata from which an item can be rebuilt: the document pseudonym is there. */
type RebuildableMetadata = VaultMetadata & { readonly document: string };
