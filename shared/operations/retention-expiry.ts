import { TransientError } from '../errors';
import { FUNCTIONS } from '../functions/declarations';
import { logPointerDecision } from '../processing-log/log-pointer';
import type { LogObjects } from '../processing-log/log-object-check';
import type { LogEntry } from '../processing-log/writer';
import {
  clearDestroying,
  expiryShardOf,
  isLive,
  markDestroying,
  reschedule,
  type DocumentItem,
  type ExpiryClaim,
} from '../retention/retention-items';
import { epochSeconds } from '../retention/schedule';
import type { OperationContext } from './context';
import { documentFields, reasonOf } from './log-entries';

/** The log an expiry writes to: this invocation's object, and what an earlier one holds. */
export type ExpiryLog = LogObjects;

/**
 * Which path expires a document: the sweeper, the TTL stream, or the vault reconciliation (a
 * document whose item was lost, handled as the TTL stream handles a removed item).
 */
export type ExpiryPath = 'sweep' | 'ttl' | 'reconciliation';

/**
 * How long after a claim its log object may still be in flight: the longer timeout of the two
 * functions that claim (the sweeper's).
 */
const IN_FLIGHT_MS =
  Math.max(
    FUNCTIONS['retention-sweep'].timeoutSeconds,
    FUNCTIONS['retention-expiry'].timeoutSeconds,
  ) * 1000;

/**
 * How long a document TTL removed stays claimed in the table: longer than the stream keeps its
 * record (24 hours), so a redelivery of that record finds the claim and logs nothing twice.
 */
const TTL_CLAIM_KEPT_MS = 25 * 3600 * 1000;

/** How long an expiry's mark holds uploads of its key class back while it destroys the key. */
const DESTROYING_MS = 60 * 1000;

/**
 * Expiry of one document: physical removal of every version, then its subject key of that
 * category is shredded when no other live document uses it. Shared by the sweeper (schedule) and
 * the TTL stream handler.
 *
 * Crash-safe and logged once: before anything is destroyed the document is claimed (state
 * `expiring`, an {@link ExpiryClaim}: the log object its records go to, and whether its key goes
 * too). A re-run finds the claim: it logs nothing when that object holds the records, waits while
 * that object may still be written, and otherwise destroys again (idempotent) and logs the same
 * records in its own object, pointing the claim at it.
 */
export class DocumentExpiry {
  constructor(private readonly ctx: Omit<OperationContext, 'pseudonyms'>) {}

  /**
   * Removes a claimed document from the vault and returns the log entries: `expired` (or
   * `erased`, for an erasure deferred by a legal hold), and `shredded` when its claim takes its key
   * with it. The retention item is left to the caller ({@link forget}), after logging.
   */
  async purge(item: DocumentItem, via: ExpiryPath): Promise<LogEntry[]> {
    const { vault } = this.ctx;
    await vault.deleteAllVersions(item.tenant, item.subject, item.keyClass, item.documentId);
    const claim = item.expiryClaim;
    if (claim?.shredKey) {
      await vault.shred(item.tenant, item.subject, [item.keyClass]);
      if (claim.destroyingUntil) await this.cleared(item, claim.destroyingUntil);
    }
    return this.entriesOf(item, via);
  }

  /** The records of a claimed document's expiry (the same on every run). */
  private entriesOf(item: DocumentItem, via: ExpiryPath): LogEntry[] {
    const category = this.ctx.policy.find(item.category);
    // The document's upload event (its key's digest) tells this purge from that of an earlier
    // document stored under the same id (and the key shredded with it from an earlier one of the
    // same class).
    const effect = item.eventKey;
    const entries: LogEntry[] = [
      {
        ...documentFields(item, category),
        effect,
        operation: item.erasurePending ? 'erased' : 'expired',
        outcome: 'success',
        requestId: item.erasurePending ?? null,
        reason: reasonOf(
          category,
          item.erasurePending ? 'erasure-after-legal-hold' : 'retention-ended',
          `via-${via}`,
          item.restricted ? 'restricted-until-duty-end' : undefined,
        ),
      },
    ];
    if (item.expiryClaim?.shredKey)
      entries.push({
        tenant: item.tenant,
        subject: item.subject,
        category: item.category,
        operation: 'shredded',
        outcome: 'success',
        reason: reasonOf(category, 'last-document-of-key-class'),
        effect,
      });
    return entries;
  }

  /**
   * The claim of an expiry starting now, its records queued for `log`'s object: it takes the class
   * key when no live document of the class is left, and no other claim has taken it already.
   */
  private async claimOf(item: DocumentItem, log: ExpiryLog): Promise<ExpiryClaim> {
    const { store } = this.ctx;
    const at = this.ctx.now().toISOString();
    const takesKey = async () => {
      const others = (await store.listDocuments(item.tenant, item.subject)).filter(
        (d) => d.sk !== item.sk && d.keyClass === item.keyClass,
      );
      return !others.some((d) => isLive(d.state) || d.expiryClaim?.shredKey);
    };
    if (!(await takesKey())) return { logObjectKey: log.objectKey, at, shredKey: false };
    // The key goes: marked as being destroyed first, then the class listed again, so an upload
    // either waits for the mark or created its item before this listing (and keeps the key).
    const until = new Date(this.ctx.now().getTime() + DESTROYING_MS).toISOString();
    await store.updateSubject(item.tenant, item.subject, (r) =>
      markDestroying(r, [item.keyClass], until),
    );
    if (await takesKey())
      return { logObjectKey: log.objectKey, at, shredKey: true, destroyingUntil: until };
    await this.cleared(item, until);
    return { logObjectKey: log.objectKey, at, shredKey: false };
  }

  /** Clears the destruction mark this expiry set on the subject record. */
  private async cleared(item: DocumentItem, until: string): Promise<void> {
    await this.ctx.store.updateSubject(item.tenant, item.subject, (r) =>
      clearDestroying(r, [item.keyClass], until),
    );
  }

  /**
   * A claimed document met again: nothing when its records are logged, undefined while its first
   * run may still be writing them, else purged again with its records for this invocation's
   * object (the claim moved there first).
   */
  private async resumed(
    item: DocumentItem & { expiryClaim: ExpiryClaim },
    via: ExpiryPath,
    log: ExpiryLog,
  ): Promise<LogEntry[] | undefined> {
    const claim = item.expiryClaim;
    const first = this.entriesOf(item, via)[0];
    const decision = await logPointerDecision(log, claim, first, this.ctx.now(), IN_FLIGHT_MS);
    if (decision === 'logged') return [];
    if (decision === 'in-flight') return undefined;
    if (decision === 'log-again') {
      const at = this.ctx.now().toISOString();
      if (!(await this.ctx.store.moveExpiryClaim(item, claim.logObjectKey, log.objectKey, at)))
        return undefined;
    }
    return this.purge(item, via);
  }

  /** Deletes the retention item of a purged document. */
  async forget(item: DocumentItem): Promise<void> {
    await this.ctx.store.deleteDocument(item);
  }

  /**
   * Sweeps one index hit: re-reads the item, and when it is still due, claims it for `log`'s
   * object (refused while the subject is under a legal hold) and purges it. Returns the claimed
   * item (to forget once the log is written) and the log entries. A claim met again is resumed
   * (see the class); one whose first run may still be writing its log is left for the next sweep.
   */
  async sweepOne(
    hit: DocumentItem,
    log: ExpiryLog,
  ): Promise<{ claimed?: DocumentItem; entries: LogEntry[] }> {
    const { store, policy } = this.ctx;
    const nowSeconds = Math.floor(this.ctx.now().getTime() / 1000);
    const item = await store.getDocument(hit.pk, hit.sk);
    if (!item || item.expiresAt === undefined || item.expiresAt > nowSeconds)
      return { entries: [] };
    if (item.state === 'expiring' && item.expiryClaim) {
      const entries = await this.resumed({ ...item, expiryClaim: item.expiryClaim }, 'sweep', log);
      return entries ? { claimed: item, entries } : { entries: [] };
    }
    const claimed =
      item.state === 'expiring'
        ? item
        : await store.claimForExpiry(item, await this.claimOf(item, log));
    if (!claimed) {
      const subject = await store.getSubject(item.tenant, item.subject);
      return {
        entries: [
          {
            ...documentFields(item, policy.find(item.category)),
            operation: 'expired',
            outcome: 'skipped',
            reason: reasonOf(
              policy.find(item.category),
              subject.holds ? 'legal-hold' : 'concurrent-change',
            ),
          },
        ],
      };
    }
    return { claimed, entries: await this.purge(claimed, 'sweep') };
  }

  /**
   * Handles a document item TTL removed (the stream's old image). Re-checks before deleting
   * anything: an item already expired or erased is ignored; an item whose subject is under a legal
   * hold, or that is not due yet, is put back (held, without TTL) and logged as skipped. Otherwise
   * it is claimed again in the table (kept past the stream's retention, then forgotten by the
   * sweeper) before anything is destroyed, so a redelivery of the record logs nothing twice.
   * Throws a transient error while the claim's first run may still be writing its log.
   */
  async ttlRemoved(
    old: DocumentItem,
    log: ExpiryLog,
    via: Exclude<ExpiryPath, 'sweep'> = 'ttl',
  ): Promise<LogEntry[]> {
    const { store, policy } = this.ctx;
    if (!old.sk?.startsWith('DOC#') || old.state === 'expired' || old.state === 'erased') return [];
    const category = policy.find(old.category);
    const subject = await store.getSubject(old.tenant, old.subject);
    const now = this.ctx.now();
    const notDue =
      old.dueAt !== undefined && epochSeconds(new Date(old.dueAt)) > now.getTime() / 1000;
    if (old.state !== 'expiring' && (subject.holds || notDue)) {
      const restored = reschedule({ ...old, held: Boolean(subject.holds), rev: old.rev + 1 });
      const put = await store.restoreRemoved(restored);
      return [
        {
          ...documentFields(old, category),
          operation: 'expired',
          outcome: 'skipped',
          reason: reasonOf(
            category,
            subject.holds ? 'legal-hold' : 'not-due',
            put ? 'item-restored' : 'item-replaced',
            via === 'ttl' ? undefined : `via-${via}`,
          ),
        },
      ];
    }
    if (old.state === 'expiring' && old.expiryClaim) {
      // A claimed item TTL removed: done when its records are logged.
      const claim = old.expiryClaim;
      const first = this.entriesOf(old, via)[0];
      const decision = await logPointerDecision(log, claim, first, now, IN_FLIGHT_MS);
      if (decision === 'logged') return [];
      if (decision === 'in-flight') throw new ExpiryInFlightError();
    }
    const kept = new Date(now.getTime() + TTL_CLAIM_KEPT_MS);
    const removed = {
      ...old,
      expiresAt: epochSeconds(kept),
      expiryShard: expiryShardOf(old.pk, old.sk),
    };
    // A claim met again keeps its decision about the key; a new one decides now.
    const fresh = await this.claimOf(old, log);
    const claim = old.expiryClaim ? { ...fresh, shredKey: old.expiryClaim.shredKey } : fresh;
    const claimed = await store.claimRemoved(removed, claim);
    if (claimed) return this.purge(claimed, via);
    const current = await store.getDocument(old.pk, old.sk);
    // Another document took its key since: not this expiry's to touch.
    if (!current?.expiryClaim || current.eventKey !== old.eventKey) return [];
    const entries = await this.resumed({ ...current, expiryClaim: current.expiryClaim }, via, log);
    if (!entries) throw new ExpiryInFlightError();
    return entries;
  }
}

/** Raised when an expiry meets a claim whose first run may still be writing its log: retry later. */
class ExpiryInFlightError extends TransientError {
  constructor() {
    super('in-flight', 'the expiry of this document is being logged by another invocation; retry');
  }
}
