import type { LogEntry } from '../processing-log/writer';
import { isLive, reschedule, type DocumentItem } from '../retention/retention-items';
import { epochSeconds } from '../retention/schedule';
import type { OperationContext } from './context';
import { documentFields, reasonOf } from './log-entries';

/**
 * Expiry of one document: physical removal of every version, then its subject key of that
 * category is shredded when no other live document uses it. Shared by the sweeper (schedule) and
 * the TTL stream handler; every step is idempotent, so a crash is repaired by running it again.
 */
export class DocumentExpiry {
  constructor(private readonly ctx: Omit<OperationContext, 'pseudonyms'>) {}

  /**
   * Removes a claimed (or TTL-removed) document from the vault and returns the log entries:
   * `expired` (or `erased`, for an erasure deferred by a legal hold), and `shredded` when its key
   * went with it. The retention item is left to the caller ({@link forget}), after logging.
   */
  async purge(item: DocumentItem, via: 'sweep' | 'ttl'): Promise<LogEntry[]> {
    const { vault, store, policy } = this.ctx;
    const category = policy.find(item.category);
    await vault.deleteAllVersions(item.tenant, item.subject, item.keyClass, item.documentId);
    const others = (await store.listDocuments(item.tenant, item.subject)).filter(
      (d) => d.sk !== item.sk && d.keyClass === item.keyClass && isLive(d.state),
    );
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
    if (others.length === 0) {
      const { keysDestroyed } = await vault.shred(item.tenant, item.subject, [item.keyClass]);
      if (keysDestroyed > 0)
        entries.push({
          tenant: item.tenant,
          subject: item.subject,
          category: item.category,
          operation: 'shredded',
          outcome: 'success',
          reason: reasonOf(category, 'last-document-of-key-class'),
          effect,
        });
    }
    return entries;
  }

  /** Deletes the retention item of a purged document. */
  async forget(item: DocumentItem): Promise<void> {
    await this.ctx.store.deleteDocument(item);
  }

  /**
   * Sweeps one index hit: re-reads the item, and when it is still due, claims it (refused while
   * the subject is under a legal hold) and purges it. Returns the claimed item (to forget once the
   * log is written) and the log entries.
   */
  async sweepOne(hit: DocumentItem): Promise<{ claimed?: DocumentItem; entries: LogEntry[] }> {
    const { store, policy } = this.ctx;
    const nowSeconds = Math.floor(this.ctx.now().getTime() / 1000);
    const item = await store.getDocument(hit.pk, hit.sk);
    if (!item || item.expiresAt === undefined || item.expiresAt > nowSeconds)
      return { entries: [] };
    const claimed = item.state === 'expiring' ? item : await store.claimForExpiry(item);
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
   * hold, or that is not due yet, is put back (held, without TTL) and logged as skipped.
   */
  async ttlRemoved(old: DocumentItem): Promise<LogEntry[]> {
    const { store, policy } = this.ctx;
    if (!old.sk?.startsWith('DOC#') || old.state === 'expired' || old.state === 'erased') return [];
    const category = policy.find(old.category);
    const subject = await store.getSubject(old.tenant, old.subject);
    const now = this.ctx.now();
    const notDue =
      old.dueAt !== undefined && epochSeconds(new Date(old.dueAt)) > now.getTime() / 1000;
    if (subject.holds || notDue) {
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
          ),
        },
      ];
    }
    return this.purge(old, 'ttl');
  }
}
