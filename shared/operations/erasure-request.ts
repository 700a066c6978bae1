import type { ErasureRequestedV1 } from '../../events';
import type { ErasureProgress, SubjectRequestContinuedV1 } from '../../events/internal';
import type { Continuation } from '../batch/continuation-queue';
import type { EffectResult } from '../batch/idempotent-step';
import type { LogEntry } from '../processing-log/writer';
import {
  clearDestroying,
  DEFERRED_BY_LEGAL_HOLD,
  isLive,
  markDestroying,
  relationshipEndOf,
  UPLOAD_RECEIPT_SECONDS,
  uploadReceiptOf,
  vaultRefOf,
  type DocumentItem,
} from '../retention/retention-items';
import { ConcurrentChangeError } from '../retention/retention-store';
import { epochSeconds, isoOf, laterOf } from '../retention/schedule';
import { eventKeyOf } from '../batch/event-key';
import { FUNCTIONS } from '../functions/declarations';
import type { OperationContext } from './context';
import { ErasureCopies, type CopiesPlan } from './erasure-copies';
import { documentFields, keptBasis, reasonOf } from './log-entries';
import type { SubjectCopies } from './subject-copies';
import { pageOf, PAGE_CONCURRENCY, UNBOUNDED, inGroups, type PageBudget } from './subject-pages';
import { openSubjectRequest, type RequestFields } from './subject-request';

/** How long an erasure's destruction mark holds uploads back: the erasure's timeout. */
const ERASURE_WINDOW_MS = FUNCTIONS['erasure-request'].timeoutSeconds * 1000;

/**
 * What one page of an erasure destroys and restricts, saved before anything is (see
 * `RetentionStore.saveEffectPlan`): its records are rebuilt from it whatever a crashed run of the
 * page had already destroyed, and the page ends where it said, whatever is left to list.
 */
interface PagePlan {
  /** Whether a legal hold keeps everything (decided by the first page, as it found the subject). */
  readonly held: boolean;
  /** The erasure tombstone's time (decided by the first page). */
  readonly tombstoneTime: string;
  /**
   * The last page only: key classes it shreds, every class of the scope that erasure deletes but
   * those holding a document sent after the erasure (see {@link sentBefore}).
   */
  readonly classes: readonly string[];
  /**
   * Key classes holding a document sent after the erasure, found by this page or the ones before
   * (absent from a plan saved by a first page that shredded every class of its scope).
   */
  readonly spared?: readonly string[];
  /** Documents the page erases (or, under a legal hold, defers): their items as read. */
  readonly documents: readonly DocumentItem[];
  /** Documents the page restricts (the law keeps them): their items as read. */
  readonly kept: readonly DocumentItem[];
  /** Sort key of the last item the page took: the next page starts after it. */
  readonly after: string | undefined;
  /** True when items may follow: the page continues on the function's queue. */
  readonly more: boolean;
}

/**
 * Whether the erasure whose tombstone is at `tombstoneTime` covers a document: its upload event is
 * older than the erasure (the rule an upload arriving after the erasure follows, see
 * `DocumentUploadOperation`), or the pipeline stored it before the erasure's time, whatever time
 * its producer gave it: a clock set ahead does not date a document out of an erasure.
 */
function sentBefore(
  document: Pick<DocumentItem, 'eventTime' | 'storedAt'>,
  tombstoneTime: string,
): boolean {
  return document.eventTime < tombstoneTime || document.storedAt < tombstoneTime;
}

/** The plan of one page of an erasure event: the digest of its key, and the page after the first. */
function planIdOf(event: ErasureRequestedV1, page: number, part: 'page' | 'copies'): string {
  const id = `erasure#${eventKeyOf(event)}`;
  if (part === 'copies') return `${id}#copies`;
  return page === 1 ? id : `${id}#page-${page}`;
}

/**
 * `privacy.erasure.requested.v1` (GDPR Art. 17): records the request (deadline = receipt + one
 * month, GDPR Art. 12(3)) and an erasure tombstone with the event's time on the subject record (uploads
 * older than it are never stored, whatever the order they arrive in). Then, per document:
 *
 * - categories the policy lets erasure delete: their subject keys are destroyed first
 *   (crypto-shredding: unreadable at once, even where ciphertext remains), then every object
 *   version is physically removed and the retention item deleted;
 * - categories under a legal duty (Art. 17(3)(b)) or kept for legal claims (17(3)(e)): restricted
 *   (stored, no longer processed) and still deleted when their duty ends; the ground and the
 *   retain-until date are logged;
 * - under a legal hold nothing is deleted: what may be deleted is marked and is erased at the
 *   first sweep after the hold is released.
 *
 * An erasure takes what was sent before it, whatever the order things arrive in: a document whose
 * upload event is later than the erasure and which was stored after the erasure's time (before
 * the erasure listed the subject, its queue having run first) is not erased, restricted or
 * deferred, and its key class is not shredded (the erasure's documents of that class are deleted
 * version by version all the same).
 *
 * A subject is erased in pages of at most the page budget's documents, one invocation each: a
 * page that leaves documents sends the next (`privacy.internal.subject-request.continued.v1`, to
 * the function's own queue, applied once like any event) with the cursor and what the pages
 * before did. Each page renews the destruction mark (uploads of the scope wait) and saves its
 * plan before destroying anything; each deletes every version its documents stored. The last
 * page, once every document has been seen, shreds the keys of the scope (all of them when the
 * subject fits in one page, before its documents are deleted).
 *
 * The last page removes the copies, one record per removal: every version of the subject's exports
 * (decrypted documents, restricted ones included: the vault keeps the original), and, unless a
 * hold keeps them, what a refused or crashed upload left (see {@link ErasureCopies}). Then the
 * request is marked completed and logged (`request-completed`, with its deadline); an erasure
 * deferred by a legal hold stays open (outcome `deferred-by-legal-hold`) and is completed by the
 * sweep that runs it after the release.
 */
export class ErasureRequestOperation {
  private readonly copies: ErasureCopies;

  constructor(
    private readonly ctx: OperationContext,
    copies: SubjectCopies,
    private readonly budget: PageBudget = UNBOUNDED,
  ) {
    this.copies = new ErasureCopies(ctx, copies);
  }

  /**
   * Applies one page of an erasure request (the request itself is its first page); every step is
   * keyed and idempotent. Returns the page's entries and, when documents remain, the next page.
   */
  async handle(
    event: ErasureRequestedV1 | SubjectRequestContinuedV1,
  ): Promise<EffectResult<Continuation>> {
    const { store, policy } = this.ctx;
    const at = pageOf<ErasureRequestedV1, 'erasure', ErasureProgress>(event, ['erasure']);
    const { request, page } = at;
    const { categories } = request.data;
    // A category the tenant's policy does not have is refused (`unknown-category`), before
    // anything is recorded: never a request "completed" with nothing done.
    for (const c of categories ?? []) policy.forTenant(request.tenantid).category(c);
    const opened = await openSubjectRequest(this.ctx, request, 'erasure');
    const { tenant, subject, requestId, common } = opened;
    const entries: LogEntry[] = [];
    if (page === 1) entries.push({ ...common, operation: 'received', outcome: 'success' });

    // The erasure's time, but never later than now: a tombstone is not written ahead of itself.
    const tombstoneTime =
      at.progress?.tombstoneTime ?? [isoOf(request.time), this.ctx.now().toISOString()].sort()[0]!;
    // Every page renews the mark of a destruction in progress (see `keyDestroying`): an upload
    // that created its item before it is listed below; one after it waits until it is cleared.
    const until = new Date(this.ctx.now().getTime() + ERASURE_WINDOW_MS).toISOString();
    const scope = categories ?? ['*'];
    const record = await store.updateSubject(tenant, subject, (r) => {
      if (page === 1) {
        const tombstones = { ...(r.tombstones ?? {}) };
        const requests = { ...(r.tombstoneRequests ?? {}) };
        for (const c of scope) {
          tombstones[c] = laterOf(tombstones[c], tombstoneTime)!;
          if (tombstones[c] === tombstoneTime) requests[c] = requestId;
        }
        r.tombstones = tombstones;
        r.tombstoneRequests = requests;
      }
      markDestroying(r, scope, until);
    });
    const start: ErasureProgress = at.progress ?? {
      tombstoneTime,
      held: Boolean(record.holds),
      shredded: [],
      spared: [],
      erased: 0,
      restricted: 0,
      deferred: 0,
    };

    // What this page destroys is planned and saved before anything is destroyed: a run that
    // crashed part-way is re-run from its plan, so every effect (done or not) gets its record.
    const planId = planIdOf(request, page, 'page');
    const plan =
      (await store.effectPlan<PagePlan>(opened.pk, planId)) ??
      (await store.saveEffectPlan(
        opened.pk,
        planId,
        await this.planOf(tenant, subject, categories, start),
        this.planExpiry(),
      ));
    // A re-run of the first page goes on as its plan says, whatever it finds now.
    const progress = { ...start, held: plan.held, tombstoneTime: plan.tombstoneTime };
    if (progress.held) entries.push(...(await this.deferred(plan.documents, requestId, common)));
    else {
      entries.push(...(await this.shredded(tenant, subject, plan.classes, common)));
      entries.push(...(await this.erased(plan.documents, common)));
    }
    const closedAt = relationshipEndOf(record);
    for (const group of inGroups(plan.kept, PAGE_CONCURRENCY))
      entries.push(
        ...(await Promise.all(
          group.map((item) => this.restricted(item, progress.held, common, closedAt)),
        )),
      );
    const done: ErasureProgress = {
      ...progress,
      ...(plan.after ? { after: plan.after } : {}),
      shredded: [...progress.shredded, ...plan.classes],
      spared: [...(plan.spared ?? [])],
      erased: progress.erased + (progress.held ? 0 : plan.documents.length),
      deferred: progress.deferred + (progress.held ? plan.documents.length : 0),
      restricted: progress.restricted + plan.kept.length,
    };
    if (plan.more)
      return { entries, next: { operation: 'erasure', page: page + 1, request, progress: done } };

    // The last page: the copies, planned (and saved) once the documents are gone, then removed.
    const copiesId = planIdOf(request, page, 'copies');
    const copies =
      (await store.effectPlan<CopiesPlan>(opened.pk, copiesId)) ??
      (await store.saveEffectPlan(
        opened.pk,
        copiesId,
        await this.copies.planOf(tenant, subject, categories, done),
        this.planExpiry(),
      ));
    entries.push(...(await this.copies.removed(tenant, subject, copies, common)));
    // Destroyed: uploads of these categories may store again (under a new key).
    await store.updateSubject(tenant, subject, (r) => clearDestroying(r, scope, until));
    return { entries: [...entries, ...(await this.completed(opened, done))] };
  }

  /** When a saved plan may go: after the redelivery window of the event it was made for. */
  private planExpiry(): number {
    return epochSeconds(new Date(this.ctx.now().getTime() + UPLOAD_RECEIPT_SECONDS * 1000));
  }

  /**
   * What one page will do, read before anything is destroyed: the next documents of the subject
   * after the cursor (at most the page budget) that the erasure covers, split into those it erases
   * and those the law keeps; on the last page, the key classes of the scope to shred (unless a
   * legal hold keeps everything), but those holding a document the erasure does not cover.
   */
  private async planOf(
    tenant: string,
    subject: string,
    categories: readonly string[] | undefined,
    progress: ErasureProgress,
  ): Promise<PagePlan> {
    const { store, policy, vault } = this.ctx;
    const inScope = (category: string) => !categories || categories.includes(category);
    const deletes = (category: string) => policy.find(category)?.erasure !== 'restrict';
    const { items, more } = await store.documentPage(
      tenant,
      subject,
      progress.after,
      this.budget.pageDocuments,
    );
    const listed = items.filter((d) => inScope(d.category) && isLive(d.state));
    const wanted = listed.filter((d) => sentBefore(d, progress.tombstoneTime));
    const later = listed.filter((d) => !sentBefore(d, progress.tombstoneTime));
    const spared = [...new Set([...(progress.spared ?? []), ...later.map((d) => d.keyClass)])];
    // Keys the pages before shredded are not shredded (nor logged) again.
    const shreds = (c: string) =>
      inScope(c) && deletes(c) && !spared.includes(c) && !progress.shredded.includes(c);
    const classes =
      !more && !progress.held ? (await vault.keyClasses(tenant, subject)).filter(shreds) : [];
    return {
      held: progress.held,
      tombstoneTime: progress.tombstoneTime,
      classes,
      spared: spared.sort(),
      documents: wanted.filter((d) => deletes(d.category)),
      kept: wanted.filter((d) => !deletes(d.category)),
      after: items.length > 0 ? items[items.length - 1]!.sk : progress.after,
      more,
    };
  }

  /** Destroys the subject keys of `classes` (crypto-shredding): one record per class. */
  private async shredded(
    tenant: string,
    subject: string,
    classes: readonly string[],
    common: RequestFields,
  ): Promise<LogEntry[]> {
    if (classes.length === 0) return [];
    await this.ctx.vault.shred(tenant, subject, classes);
    return classes.map((keyClass) => ({
      ...common,
      category: keyClass,
      operation: 'shredded' as const,
      outcome: 'success' as const,
      reason: reasonOf(this.ctx.policy.find(keyClass), 'erasure-request'),
    }));
  }

  /** Under a legal hold: what may be deleted is marked for erasure at the release, not deleted. */
  private async deferred(
    deletable: readonly DocumentItem[],
    requestId: string,
    common: RequestFields,
  ): Promise<LogEntry[]> {
    const { store, policy } = this.ctx;
    const entries: LogEntry[] = [];
    for (const planned of deletable) {
      await this.changed(planned, async (item) => {
        if (item.erasurePending !== requestId)
          await store.saveDocument({ ...item, erasurePending: requestId });
      });
      entries.push({
        ...documentFields(planned, policy.find(planned.category)),
        ...common,
        operation: 'erased',
        outcome: 'skipped',
        reason: reasonOf(
          policy.find(planned.category),
          'legal-hold',
          'erasure-deferred-until-release',
        ),
      });
    }
    return entries;
  }

  /**
   * Erases the page's documents (on the last page, their keys already destroyed): the version each
   * upload stored goes in one call per 1,000 documents (no listing; a document whose version is not
   * known is listed), then each retention item, {@link PAGE_CONCURRENCY} at a time. Any other
   * version a document left is the last page's (see `ErasureCopies`).
   */
  private async erased(
    deletable: readonly DocumentItem[],
    common: RequestFields,
  ): Promise<LogEntry[]> {
    const { vault } = this.ctx;
    const known = deletable.filter((d) => d.versionId !== undefined);
    await vault.deleteStoredVersions(
      known.map((d) => ({ ...vaultRefOf(d), versionId: d.versionId! })),
    );
    for (const d of deletable.filter((item) => item.versionId === undefined))
      await vault.deleteAllVersions(d.tenant, d.subject, d.keyClass, d.documentId);
    const entries: LogEntry[] = [];
    for (const group of inGroups(deletable, PAGE_CONCURRENCY))
      entries.push(...(await Promise.all(group.map((item) => this.erasedDocument(item, common)))));
    return entries;
  }

  /** Removes an erased document's retention item (its versions gone); one record. */
  private async erasedDocument(item: DocumentItem, common: RequestFields): Promise<LogEntry> {
    const { store, policy } = this.ctx;
    // A late redelivery of its upload finds the receipt: a replay, not a second record.
    const document = item.sk.slice('DOC#'.length);
    const receipt = item.eventKey
      ? uploadReceiptOf(item.pk, document, item, this.ctx.now())
      : undefined;
    await store.retireDocument(item, receipt);
    return {
      ...documentFields(item, policy.find(item.category)),
      ...common,
      operation: 'erased',
      outcome: 'success',
      retainUntil: null,
      reason: reasonOf(policy.find(item.category), 'crypto-shredded', 'all-versions-deleted'),
    };
  }

  /**
   * Keeps a document the law requires (restricted: stored, no longer processed), with its ground,
   * until its legal duty ends (not the controller's longer period, if it instructed one).
   */
  private async restricted(
    planned: DocumentItem,
    held: boolean,
    common: RequestFields,
    closedAt: string | undefined,
  ): Promise<LogEntry> {
    const tenantPolicy = this.ctx.policy.forTenant(planned.tenant);
    const category = tenantPolicy.category(planned.category);
    const dutyEnd = tenantPolicy.dueDate(category, {
      documentDate: planned.documentDate,
      closedAt,
      restricted: true,
    });
    const current = await this.changed(planned, (item) =>
      item.restricted
        ? Promise.resolve(item)
        : this.ctx.store.saveDocument({
            ...item,
            restricted: true,
            restrictionGround: category.restrictionGround,
            restrictedAt: this.ctx.now().toISOString(),
            ...(dutyEnd ? { dueAt: dutyEnd.toISOString() } : {}),
          }),
    );
    return {
      ...documentFields(current ?? planned, category),
      ...common,
      operation: 'restricted',
      outcome: 'kept',
      legalBasis: keptBasis(category),
      reason: reasonOf(
        category,
        'kept-under-legal-duty',
        (current ?? planned).dueAt ? 'deleted-when-duty-ends' : 'duty-starts-at-relationship-end',
        held ? 'legal-hold' : undefined,
      ),
    };
  }

  /**
   * Applies `change` to a planned item; when the item changed since it was planned (a re-run of
   * the page after a crash had changed it already), to the item as it is now. Undefined when it
   * is gone.
   */
  private async changed<T>(
    planned: DocumentItem,
    change: (item: DocumentItem) => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await change(planned);
    } catch (error) {
      if (!(error instanceof ConcurrentChangeError)) throw error;
      const now = await this.ctx.store.getDocument(planned.pk, planned.sk);
      return now ? change(now) : undefined;
    }
  }

  /** The request completed and logged, or kept open while a hold defers what may go. */
  private async completed(
    opened: Awaited<ReturnType<typeof openSubjectRequest>>,
    done: ErasureProgress,
  ): Promise<LogEntry[]> {
    const { store } = this.ctx;
    const { request, deadline, common } = opened;
    if (done.held && done.deferred > 0) {
      // Not answered yet: the request stays open (and overdue once past its deadline) until the
      // hold is released and the sweeper has run the deferred erasure; the sweeper completes it.
      await store.deferRequest(request, DEFERRED_BY_LEGAL_HOLD);
      return [];
    }
    const outcome = `erased:${done.erased};restricted:${done.restricted}`;
    const completed = await store.completeRequest(request, this.ctx.now().toISOString(), outcome);
    return [
      {
        ...common,
        operation: 'request-completed',
        outcome: 'success',
        reason: `${completed.outcome}${completed.completedAt! > deadline ? ';late' : ''}`,
      },
    ];
  }
}
