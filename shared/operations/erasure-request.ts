import type { ErasureRequestedV1 } from '../../events';
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
  type UploadMarker,
} from '../retention/retention-items';
import { vaultKeyOf, type VaultDocumentRef } from '../vault/vault-ref';
import { epochSeconds, isoOf, laterOf } from '../retention/schedule';
import { eventKeyOf } from '../batch/event-key';
import { FUNCTIONS } from '../functions/declarations';
import type { OperationContext } from './context';
import { documentFields, keptBasis, reasonOf } from './log-entries';
import type { ExportCopy, SubjectCopies } from './subject-copies';
import { openSubjectRequest, type RequestFields } from './subject-request';

/** How long an erasure's destruction mark holds uploads back: the erasure's timeout. */
const ERASURE_WINDOW_MS = FUNCTIONS['erasure-request'].timeoutSeconds * 1000;

/** An upload object a refused or crashed upload left, and whether it was there when planned. */
interface PlannedUpload {
  readonly marker: UploadMarker;
  readonly found: boolean;
}

/**
 * What one erasure destroys, saved before anything is (see `RetentionStore.saveEffectPlan`): its
 * records are rebuilt from it whatever a crashed run had already destroyed.
 */
interface ErasurePlan {
  /** A legal hold kept everything but the exports. */
  readonly held: boolean;
  readonly exports: readonly ExportCopy[];
  readonly uploads: readonly PlannedUpload[];
  readonly orphans: readonly VaultDocumentRef[];
  /** Key classes shredded. */
  readonly classes: readonly string[];
  /** Documents erased (their items as read). */
  readonly documents: readonly DocumentItem[];
}

/** The plan of one erasure event: the digest of its key (`tenantid`, `source`, `id`). */
function planIdOf(event: ErasureRequestedV1): string {
  return `erasure#${eventKeyOf(event)}`;
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
 * Copies go too, one record per removal: every version of the subject's exports (decrypted
 * documents, restricted ones included: the vault keeps the original), and, unless a hold keeps
 * them, what a refused or crashed upload left (its upload object, found by its marker, and vault
 * objects no retention item knows). The upload object of a category the law keeps, never stored,
 * is the original: it stays, and a redrive stores it restricted.
 *
 * Finally the request is marked completed and logged (`request-completed`, with its deadline);
 * an erasure deferred by a legal hold stays open (outcome `deferred-by-legal-hold`) and is
 * completed by the sweep that runs it after the release.
 */
export class ErasureRequestOperation {
  constructor(
    private readonly ctx: OperationContext,
    private readonly copies: SubjectCopies,
  ) {}

  /** Applies one erasure request; every step is keyed and idempotent. */
  async handle(event: ErasureRequestedV1): Promise<LogEntry[]> {
    const { store, policy } = this.ctx;
    const { categories } = event.data;
    // A category the tenant's policy does not have is refused (`unknown-category`), before
    // anything is recorded: never a request "completed" with nothing done.
    for (const c of categories ?? []) policy.forTenant(event.tenantid).category(c);
    const opened = await openSubjectRequest(this.ctx, event, 'erasure');
    const { tenant, subject, requestId, deadline, common, request } = opened;
    const entries: LogEntry[] = [{ ...common, operation: 'received', outcome: 'success' }];

    // The erasure's time, but never later than now: a tombstone is not written ahead of itself.
    const tombstoneTime = [isoOf(event.time), this.ctx.now().toISOString()].sort()[0]!;
    // With the tombstone, the mark of a destruction in progress (see `keyDestroying`): an upload
    // that created its item before it is listed below; one after it waits until it is cleared.
    const until = new Date(this.ctx.now().getTime() + ERASURE_WINDOW_MS).toISOString();
    const scope = categories ?? ['*'];
    const record = await store.updateSubject(tenant, subject, (r) => {
      const tombstones = { ...(r.tombstones ?? {}) };
      const requests = { ...(r.tombstoneRequests ?? {}) };
      for (const c of scope) {
        tombstones[c] = laterOf(tombstones[c], tombstoneTime)!;
        if (tombstones[c] === tombstoneTime) requests[c] = requestId;
      }
      r.tombstones = tombstones;
      r.tombstoneRequests = requests;
      markDestroying(r, scope, until);
    });
    const held = Boolean(record.holds);
    const wanted = (d: DocumentItem) =>
      (!categories || categories.includes(d.category)) && isLive(d.state);
    const documents = (await store.listDocuments(tenant, subject)).filter(wanted);
    const deletable = documents.filter((d) => policy.find(d.category)?.erasure !== 'restrict');
    const kept = documents.filter((d) => policy.find(d.category)?.erasure === 'restrict');

    // What this erasure destroys is planned and saved before anything is destroyed: a run that
    // crashed part-way is re-run from its plan, so every effect (done or not) gets its record.
    const plan =
      (await store.effectPlan<ErasurePlan>(request.pk, planIdOf(event))) ??
      (await store.saveEffectPlan(
        request.pk,
        planIdOf(event),
        await this.planOf(event, tenant, subject, tombstoneTime, held, documents, deletable),
        epochSeconds(new Date(this.ctx.now().getTime() + UPLOAD_RECEIPT_SECONDS * 1000)),
      ));
    entries.push(...(await this.exportsErased(plan.exports, common)));
    if (plan.held) entries.push(...(await this.deferred(deletable, requestId, common)));
    else {
      entries.push(...(await this.pendingUploadsErased(plan.uploads, common)));
      entries.push(...(await this.orphansErased(plan.orphans, common)));
      entries.push(...(await this.erased(tenant, subject, plan, common)));
    }
    // Destroyed: uploads of these categories may store again (under a new key).
    await store.updateSubject(tenant, subject, (r) => clearDestroying(r, scope, until));
    for (const item of kept)
      entries.push(await this.restricted(item, held, common, relationshipEndOf(record)));
    if (plan.held && deletable.length > 0) {
      // Not answered yet: the request stays open (and overdue once past its deadline) until the
      // hold is released and the sweeper has run the deferred erasure; the sweeper completes it.
      await store.deferRequest(request, DEFERRED_BY_LEGAL_HOLD);
      return entries;
    }
    const outcome = `erased:${plan.documents.length};restricted:${kept.length}`;
    const completed = await store.completeRequest(request, this.ctx.now().toISOString(), outcome);
    entries.push({
      ...common,
      operation: 'request-completed',
      outcome: 'success',
      reason: `${completed.outcome}${completed.completedAt! > deadline ? ';late' : ''}`,
    });
    return entries;
  }

  /**
   * What the erasure will destroy, read before anything is: the subject's exports; unless a legal
   * hold keeps them, the upload objects refused or crashed uploads left (each with its marker),
   * vault objects no retention item knows, the key classes to shred and the documents to erase.
   */
  private async planOf(
    event: ErasureRequestedV1,
    tenant: string,
    subject: string,
    tombstoneTime: string,
    held: boolean,
    documents: readonly DocumentItem[],
    deletable: readonly DocumentItem[],
  ): Promise<ErasurePlan> {
    const { store, policy } = this.ctx;
    const { categories } = event.data;
    const exports = await this.copies.exportsOf(tenant, subject);
    if (held) return { held, exports, uploads: [], orphans: [], classes: [], documents: [] };
    const inScope = (category: string) => !categories || categories.includes(category);
    // An upload in flight that is newer than this erasure is not covered by it: left alone.
    const covers = (m: UploadMarker) => inScope(m.category) && m.eventTime < tombstoneTime;
    // Vault objects first: an upload writes its marker before storing, so a vault object in
    // flight always has a marker listed after it.
    const refs = await this.ctx.vault.storedRefs(tenant, subject);
    const markers = await store.listUploadMarkers(tenant, subject);
    const newer = new Set(markers.filter((m) => !covers(m)).map((m) => m.documentId));
    const known = new Set(documents.map((d) => vaultKeyOf(vaultRefOf(d))));
    const orphans = refs.filter(
      (ref) => inScope(ref.keyClass) && !newer.has(ref.documentId) && !known.has(vaultKeyOf(ref)),
    );
    // The upload of a category the law keeps, never stored, stays (a redrive stores it restricted).
    const stored = new Set(documents.map((d) => d.document));
    const uploads: PlannedUpload[] = [];
    for (const marker of markers.filter(covers)) {
      if (!stored.has(marker.document) && policy.find(marker.category)?.erasure === 'restrict')
        continue;
      uploads.push({ marker, found: (await this.copies.uploadVersions(marker.uploadKey)) > 0 });
    }
    const orphanClasses = orphans
      .map((ref) => ref.keyClass)
      .filter((keyClass) => policy.find(keyClass)?.erasure !== 'restrict');
    const classes = [...new Set([...deletable.map((d) => d.keyClass), ...orphanClasses])].sort();
    return { held, exports, uploads, orphans, classes, documents: [...deletable] };
  }

  /** Under a legal hold: what may be deleted is marked for erasure at the release, not deleted. */
  private async deferred(
    deletable: readonly DocumentItem[],
    requestId: string,
    common: RequestFields,
  ): Promise<LogEntry[]> {
    const { store, policy } = this.ctx;
    const entries: LogEntry[] = [];
    for (const item of deletable) {
      if (item.erasurePending !== requestId)
        await store.saveDocument({ ...item, erasurePending: requestId });
      entries.push({
        ...documentFields(item, policy.find(item.category)),
        ...common,
        operation: 'erased',
        outcome: 'skipped',
        reason: reasonOf(
          policy.find(item.category),
          'legal-hold',
          'erasure-deferred-until-release',
        ),
      });
    }
    return entries;
  }

  /**
   * Deletes every version of each of the subject's exports, kept data included (the vault keeps
   * the original; a legal hold keeps the original, not the copies).
   */
  private async exportsErased(
    exports: readonly ExportCopy[],
    common: RequestFields,
  ): Promise<LogEntry[]> {
    const entries: LogEntry[] = [];
    for (const copy of exports) {
      await this.copies.deleteExport(copy);
      entries.push({
        ...common,
        operation: 'erased',
        outcome: 'success',
        reason: `${copy.kind}-export-deleted;all-versions-deleted`,
        effect: copy.prefix,
      });
    }
    return entries;
  }

  /**
   * Deletes the upload objects refused or crashed uploads left: a copy when its document is
   * stored, or the only original of a category erasure deletes. The upload of a category the law
   * keeps, never stored, stays (a redrive stores it restricted). Each marker goes with its object.
   */
  private async pendingUploadsErased(
    uploads: readonly PlannedUpload[],
    common: RequestFields,
  ): Promise<LogEntry[]> {
    const { store, policy } = this.ctx;
    const entries: LogEntry[] = [];
    for (const { marker, found } of uploads) {
      const category = policy.find(marker.category);
      await this.copies.deleteUpload(marker.uploadKey);
      if (found)
        entries.push({
          ...common,
          category: marker.category,
          document: marker.document,
          operation: 'erased',
          outcome: 'success',
          reason: reasonOf(category, 'pending-upload-deleted', 'all-versions-deleted'),
          effect: marker.sk,
        });
      await store.deleteUploadMarker(marker);
    }
    return entries;
  }

  /** Deletes every version of the vault objects a dead-lettered upload left without an item. */
  private async orphansErased(
    orphans: readonly VaultDocumentRef[],
    common: RequestFields,
  ): Promise<LogEntry[]> {
    const { vault, policy } = this.ctx;
    const entries: LogEntry[] = [];
    for (const ref of orphans) {
      await vault.deleteAllVersions(ref.tenant, ref.subject, ref.keyClass, ref.documentId);
      entries.push({
        ...common,
        category: ref.keyClass,
        document: await this.ctx.pseudonyms.of(ref.tenant, 'document', ref.documentId),
        operation: 'erased',
        outcome: 'success',
        reason: reasonOf(
          policy.find(ref.keyClass),
          'vault-object-without-item',
          'all-versions-deleted',
        ),
      });
    }
    return entries;
  }

  /**
   * Erases what may be deleted: its subject keys are destroyed first (crypto-shredding: unreadable
   * at once, even where ciphertext remains), then every object version and the retention items.
   * The key of a category erasure deletes goes even when only an orphan used it.
   */
  private async erased(
    tenant: string,
    subject: string,
    { classes, documents: deletable }: ErasurePlan,
    common: RequestFields,
  ): Promise<LogEntry[]> {
    const { store, vault, policy } = this.ctx;
    const entries: LogEntry[] = [];
    if (classes.length > 0) {
      await vault.shred(tenant, subject, classes);
      for (const keyClass of classes)
        entries.push({
          ...common,
          category: keyClass,
          operation: 'shredded',
          outcome: 'success',
          reason: reasonOf(policy.find(keyClass), 'erasure-request'),
        });
      for (const keyClass of classes) await vault.deleteAllVersions(tenant, subject, keyClass);
    }
    for (const item of deletable) {
      // A late redelivery of its upload finds the receipt: a replay, not a second record.
      const document = item.sk.slice('DOC#'.length);
      const receipt = item.eventKey
        ? uploadReceiptOf(item.pk, document, item, this.ctx.now())
        : undefined;
      await store.retireDocument(item, receipt);
      entries.push({
        ...documentFields(item, policy.find(item.category)),
        ...common,
        operation: 'erased',
        outcome: 'success',
        retainUntil: null,
        reason: reasonOf(policy.find(item.category), 'crypto-shredded', 'all-versions-deleted'),
      });
    }
    return entries;
  }

  /**
   * Keeps a document the law requires (restricted: stored, no longer processed), with its ground,
   * until its legal duty ends (not the controller's longer period, if it instructed one).
   */
  private async restricted(
    item: DocumentItem,
    held: boolean,
    common: RequestFields,
    closedAt: string | undefined,
  ): Promise<LogEntry> {
    const tenantPolicy = this.ctx.policy.forTenant(item.tenant);
    const category = tenantPolicy.category(item.category);
    const dutyEnd = tenantPolicy.dueDate(category, {
      documentDate: item.documentDate,
      closedAt,
      restricted: true,
    });
    const current = item.restricted
      ? item
      : await this.ctx.store.saveDocument({
          ...item,
          restricted: true,
          restrictionGround: category.restrictionGround,
          restrictedAt: this.ctx.now().toISOString(),
          ...(dutyEnd ? { dueAt: dutyEnd.toISOString() } : {}),
        });
    return {
      ...documentFields(current, category),
      ...common,
      operation: 'restricted',
      outcome: 'kept',
      legalBasis: keptBasis(category),
      reason: reasonOf(
        category,
        'kept-under-legal-duty',
        current.dueAt ? 'deleted-when-duty-ends' : 'duty-starts-at-relationship-end',
        held ? 'legal-hold' : undefined,
      ),
    };
  }
}
