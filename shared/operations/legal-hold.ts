import type { LegalHoldPlacedV1, LegalHoldReleasedV1 } from '../../events';
import type { LogEntry } from '../processing-log/writer';
import { isHoldActive, isLive } from '../retention/retention-items';
import { isoOf } from '../retention/schedule';
import type { OperationContext } from './context';
import { documentFields, reasonOf } from './log-entries';

/**
 * `privacy.legal-hold.placed.v1` / `released.v1`: litigation or an authority's request suspends
 * every deletion of the subject's data, erasure requests included, until the hold is released.
 *
 * Placements and releases are compared by event time, like erasure tombstones: a hold is active
 * when its latest placement is later than its latest release, so a release delivered before its
 * placement leaves no hold, and the hold item and the subject's active holds change together.
 *
 * Placed: the hold id joins the subject record's active holds, then every scheduled document of
 * the subject loses its TTL attribute and index entry (state `held`, due date kept), so neither TTL
 * nor the sweeper can delete it; the expiry paths also re-check the subject's holds before deleting
 * (a transaction conditional on no active hold), which closes the race with an expiry in flight.
 *
 * Released: the hold id leaves the record; when it was the last one, every held document gets its
 * schedule back. What fell due during the hold (and erasures deferred by it) is therefore due at
 * once and runs at the next sweep, within the sweeper's bound (one hour).
 */
export class LegalHoldOperation {
  constructor(private readonly ctx: Omit<OperationContext, 'vault'>) {}

  /** Applies one hold event. */
  async handle(event: LegalHoldPlacedV1 | LegalHoldReleasedV1): Promise<LogEntry[]> {
    return event.type === 'privacy.legal-hold.placed.v1' ? this.place(event) : this.release(event);
  }

  /**
   * Who and which hold: the hold is known by the keyed pseudonym of its id (table, log records'
   * `requestId`); its free-text reason is neither stored nor logged.
   */
  private async common(event: LegalHoldPlacedV1 | LegalHoldReleasedV1) {
    const tenant = event.tenantid;
    const subject = await this.ctx.pseudonyms.subject(tenant, event.data.subjectId);
    const holdId = await this.ctx.pseudonyms.hold(tenant, event.data.holdId);
    return {
      tenant,
      subject,
      holdId,
      fields: {
        tenant,
        subject,
        requestId: holdId,
        eventId: event.id,
        eventSource: event.source,
        eventType: event.type,
      },
    };
  }

  private async place(event: LegalHoldPlacedV1): Promise<LogEntry[]> {
    const { store, policy } = this.ctx;
    const { tenant, subject, holdId, fields } = await this.common(event);
    const { hold } = await store.recordHoldEvent(tenant, subject, {
      holdId,
      kind: 'placed',
      time: isoOf(event.time),
    });
    if (!isHoldActive(hold))
      return [
        { ...fields, operation: 'hold-placed', outcome: 'skipped', reason: 'released-later' },
      ];
    const entries: LogEntry[] = [
      { ...fields, operation: 'hold-placed', outcome: 'success', reason: 'legal-hold' },
    ];
    for (const item of await store.listDocuments(tenant, subject)) {
      if (!isLive(item.state)) continue;
      const current = item.held ? item : await store.saveDocument({ ...item, held: true });
      const category = policy.find(item.category);
      entries.push({
        ...documentFields(current, category),
        ...fields,
        operation: 'hold-placed',
        outcome: 'kept',
        reason: reasonOf(category, 'legal-hold', 'expiry-suspended'),
      });
    }
    return entries;
  }

  private async release(event: LegalHoldReleasedV1): Promise<LogEntry[]> {
    const { store, policy } = this.ctx;
    const { tenant, subject, holdId, fields } = await this.common(event);
    const { hold, record } = await store.recordHoldEvent(tenant, subject, {
      holdId,
      kind: 'released',
      time: isoOf(event.time),
    });
    const skipped = (reason: string): LogEntry[] => [
      { ...fields, operation: 'hold-released', outcome: 'skipped', reason },
    ];
    // Recorded: a placement older than this release, arriving later, places nothing.
    if (!hold.placedAt) return skipped('released-before-placement');
    if (isHoldActive(hold)) return skipped('placed-again-later');
    if (record.holds)
      return [
        {
          ...fields,
          operation: 'hold-released',
          outcome: 'success',
          reason: 'other-holds-active',
        },
      ];
    const entries: LogEntry[] = [
      { ...fields, operation: 'hold-released', outcome: 'success', reason: 'legal-hold' },
    ];
    const now = this.ctx.now().toISOString();
    for (const item of await store.listDocuments(tenant, subject)) {
      if (!item.held) continue;
      const current = await store.saveDocument({
        ...item,
        held: false,
        // A deferred erasure is due at once: the next sweep erases it.
        ...(item.erasurePending ? { dueAt: now } : {}),
      });
      const category = policy.find(item.category);
      entries.push({
        ...documentFields(current, category),
        ...fields,
        operation: 'hold-released',
        outcome: 'success',
        reason: reasonOf(category, item.erasurePending ? 'erasure-resumed' : 'schedule-restored'),
      });
    }
    return entries;
  }
}
