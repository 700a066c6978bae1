import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { AccountClosedV1, AccountReopenedV1 } from '../../events';
import type { ExportProgress, SubjectRequestContinuedV1 } from '../../events/internal';
import type { Continuation } from '../batch/continuation-queue';
import type { EffectResult } from '../batch/idempotent-step';
import type { LogEntry } from '../processing-log/writer';
import { isLive, relationshipEndOf } from '../retention/retention-items';
import { isoOf, laterOf } from '../retention/schedule';
import type { OperationContext } from './context';
import { documentFields, reasonOf } from './log-entries';
import { SubjectExporter } from './subject-export';
import { pageOf, type PageBudget, type RequestPage } from './subject-pages';

/** Options of the {@link AccountClosureOperation}. */
export interface AccountClosureOptions {
  readonly s3: S3Client;
  /** Export bucket, for `exportBeforeDeletion`. */
  readonly exportBucket: string;
  /** Documents per invocation and time left (the export). @default everything in one invocation */
  readonly budget?: PageBudget;
}

/**
 * `privacy.account.closed.v1`: with `exportBeforeDeletion`, first exports the subject's data for
 * the controller (the data is handed over before its deletion clock runs); then records the
 * closure on the subject record and starts every clock that waited for it (retention counted from
 * the end of the relationship, not from upload): categories counted from the end of the
 * relationship get `closedAt + duration`, categories that keep nothing after closure `closedAt +
 * grace period`. Documents counted from their own date (accounting, payroll, attendance) keep
 * their schedule, and so do documents already scheduled from the end of an earlier relationship.
 * The latest closure and reopening (by business time, whatever order they arrive in) tell whether
 * the relationship is closed: after a reopening, uploads wait for the next closure. A replay
 * re-applies the same schedule. An export too large for one invocation goes on in pages on the
 * function's own queue; the clocks start on its last page.
 */
export class AccountClosureOperation {
  private readonly exporter: SubjectExporter;

  constructor(
    private readonly ctx: OperationContext,
    options: AccountClosureOptions,
  ) {
    this.exporter = new SubjectExporter(ctx, options.s3, options.exportBucket, options.budget);
  }

  /** Applies one closure or reopening event, or one page of a closure's export. */
  async handle(
    event: AccountClosedV1 | AccountReopenedV1 | SubjectRequestContinuedV1,
  ): Promise<LogEntry[] | EffectResult<Continuation>> {
    if (event.type === 'privacy.account.reopened.v1') return this.reopen(event);
    return this.close(
      pageOf<AccountClosedV1, 'closure', ExportProgress>(
        event as AccountClosedV1 | SubjectRequestContinuedV1,
        ['closure'],
      ),
    );
  }

  /**
   * A reopening: the latest reopening time goes on the subject record, so what is stored from now
   * on waits for the next closure. Documents of the earlier relationship keep their clocks.
   */
  private async reopen(event: AccountReopenedV1): Promise<LogEntry[]> {
    const tenant = event.tenantid;
    const subject = await this.ctx.pseudonyms.subject(tenant, event.data.subjectId);
    const record = await this.ctx.store.updateSubject(tenant, subject, (r) => {
      r.reopenedAt = laterOf(r.reopenedAt, isoOf(event.data.reopenedAt));
    });
    const reason = relationshipEndOf(record) ? 'closed-again-later' : 'relationship-reopened';
    return [
      {
        tenant,
        subject,
        operation: 'received',
        outcome: 'success',
        reason,
        eventId: event.id,
        eventSource: event.source,
        eventType: event.type,
      },
    ];
  }

  private async close(
    at: RequestPage<AccountClosedV1, ExportProgress>,
  ): Promise<LogEntry[] | EffectResult<Continuation>> {
    const { store, policy, pseudonyms } = this.ctx;
    const event = at.request;
    const tenant = event.tenantid;
    const subject = await pseudonyms.subject(tenant, event.data.subjectId);
    const eventFields = { eventId: event.id, eventSource: event.source, eventType: event.type };
    const entries: LogEntry[] =
      at.page === 1
        ? [{ tenant, subject, operation: 'received', outcome: 'success', ...eventFields }]
        : [];
    if (event.data.exportBeforeDeletion) {
      const exportId = createHash('sha256').update(`${event.source}|${event.id}`).digest('hex');
      const result = await this.exporter.export(
        { tenant, subject, subjectId: event.data.subjectId, kind: 'closure', exportId },
        at,
      );
      entries.push(...result.entries.map((e) => ({ ...e, ...eventFields })));
      if (result.next)
        return {
          entries,
          next: { operation: 'closure', page: at.page + 1, request: event, progress: result.next },
        };
    }
    const record = await store.updateSubject(tenant, subject, (r) => {
      r.closedAt = laterOf(r.closedAt, isoOf(event.data.closedAt));
    });
    const closedAt = relationshipEndOf(record);
    // A closure older than a reopening already received ends nothing: the relationship is open.
    if (!closedAt) return entries;
    const tenantPolicy = policy.forTenant(tenant);
    for (const item of await store.listDocuments(tenant, subject)) {
      if (!isLive(item.state)) continue;
      const category = tenantPolicy.find(item.category);
      if (!category) continue;
      let reason: string;
      let current = item;
      if (category.anchor === 'relationship-end') {
        const due = tenantPolicy
          .dueDate(category, {
            documentDate: item.documentDate,
            closedAt,
            restricted: item.restricted,
          })!
          .toISOString();
        if (item.dueAt && item.dueAt !== due)
          // Scheduled from the end of an earlier relationship: that clock runs on.
          reason = 'clock-unchanged:earlier-relationship';
        else {
          if (item.dueAt !== due) current = await store.saveDocument({ ...item, dueAt: due });
          reason = category.graceAfterClosure
            ? 'clock-started:grace-after-closure'
            : 'clock-started:relationship-end';
        }
      } else reason = `clock-unchanged:${category.anchor}`;
      entries.push({
        ...documentFields(current, category),
        ...eventFields,
        operation: 'stored',
        outcome: 'kept',
        reason: reasonOf(
          category,
          reason,
          current.restricted ? 'restricted' : undefined,
          current.held ? 'legal-hold' : undefined,
        ),
      });
    }
    return entries;
  }
}
