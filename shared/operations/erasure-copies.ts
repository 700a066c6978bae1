import type { ErasureProgress } from '../../events/internal';
import type { LogEntry } from '../processing-log/writer';
import { isLive, subjectKey, vaultRefOf, type UploadMarker } from '../retention/retention-items';
import { vaultKeyOf, type VaultDocumentRef } from '../vault/vault-ref';
import type { OperationContext } from './context';
import { reasonOf } from './log-entries';
import type { ExportCopy, SubjectCopies } from './subject-copies';
import type { RequestFields } from './subject-request';

/** An upload object a refused or crashed upload left, and whether it was there when planned. */
interface PlannedUpload {
  readonly marker: UploadMarker;
  readonly found: boolean;
}

/**
 * What the last page of an erasure removes besides the documents, saved before anything is (see
 * `RetentionStore.saveEffectPlan`): its records are rebuilt from it whatever a crashed run had
 * already removed.
 */
export interface CopiesPlan {
  readonly exports: readonly ExportCopy[];
  readonly uploads: readonly PlannedUpload[];
  /** Vault objects no retention item knows (a dead-lettered upload left them): logged. */
  readonly orphans: readonly VaultDocumentRef[];
  /** Versions an erased document left besides the one its item named (no record of their own). */
  readonly leftovers: readonly VaultDocumentRef[];
  /** Key classes of orphans the pages did not shred (they found no key of them). */
  readonly classes: readonly string[];
}

/**
 * The copies an erasure removes once the subject's documents are done (its last page): every
 * version of the subject's exports (kept data included: the vault keeps the original), and, unless
 * a legal hold keeps them, what refused or crashed uploads left: upload objects (found by their
 * marker) and vault objects no retention item knows. The upload object of a category the law
 * keeps, never stored, is the original: it stays, and a redrive stores it restricted.
 */
export class ErasureCopies {
  constructor(
    private readonly ctx: OperationContext,
    private readonly copies: SubjectCopies,
  ) {}

  /**
   * What is left to remove, read after the documents are gone: the subject's exports; unless a
   * legal hold keeps them, the upload objects its markers name (an upload in flight newer than the
   * erasure is left alone) and every vault object of the scope that no live item knows: a version
   * an erased document left (its upload receipt says it was erased) or an orphan.
   */
  async planOf(
    tenant: string,
    subject: string,
    categories: readonly string[] | undefined,
    done: ErasureProgress,
  ): Promise<CopiesPlan> {
    const { store, policy, vault, pseudonyms } = this.ctx;
    const exports = await this.copies.exportsOf(tenant, subject);
    if (done.held) return { exports, uploads: [], orphans: [], leftovers: [], classes: [] };
    const inScope = (category: string) => !categories || categories.includes(category);
    const covers = (m: UploadMarker) => inScope(m.category) && m.eventTime < done.tombstoneTime;
    // Vault objects first: an upload writes its marker before storing, so a vault object in
    // flight always has a marker listed after it.
    const refs = await vault.storedRefs(tenant, subject);
    const markers = await store.listUploadMarkers(tenant, subject);
    const documents = (await store.listDocuments(tenant, subject)).filter((d) => isLive(d.state));
    const newer = new Set(markers.filter((m) => !covers(m)).map((m) => m.documentId));
    const known = new Set(documents.map((d) => vaultKeyOf(vaultRefOf(d))));
    const orphans: VaultDocumentRef[] = [];
    const leftovers: VaultDocumentRef[] = [];
    for (const ref of refs) {
      if (!inScope(ref.keyClass) || newer.has(ref.documentId) || known.has(vaultKeyOf(ref)))
        continue;
      const document = await pseudonyms.of(tenant, 'document', ref.documentId);
      const erased =
        [...done.shredded, ...(done.spared ?? [])].includes(ref.keyClass) &&
        (await store.getUploadReceipt(subjectKey(tenant, subject), `ERASED#${document}`));
      (erased ? leftovers : orphans).push(ref);
    }
    // The upload of a category the law keeps, never stored, stays (a redrive stores it restricted).
    const stored = new Set(documents.map((d) => d.document));
    const uploads: PlannedUpload[] = [];
    for (const marker of markers.filter(covers)) {
      if (!stored.has(marker.document) && policy.find(marker.category)?.erasure === 'restrict')
        continue;
      uploads.push({ marker, found: (await this.copies.uploadVersions(marker.uploadKey)) > 0 });
    }
    // A class that has a live document (one sent after the erasure, which the pages left) keeps
    // its key: only its orphans go.
    const live = new Set(documents.map((d) => d.keyClass));
    const shreds = (c: string) =>
      policy.find(c)?.erasure !== 'restrict' && !done.shredded.includes(c) && !live.has(c);
    const classes = [...new Set(orphans.map((ref) => ref.keyClass).filter(shreds))].sort();
    return { exports, uploads, orphans, leftovers, classes };
  }

  /** Removes what `plan` names, one record per copy removed (a leftover version has none). */
  async removed(
    tenant: string,
    subject: string,
    plan: CopiesPlan,
    common: RequestFields,
  ): Promise<LogEntry[]> {
    const { vault, policy } = this.ctx;
    const entries: LogEntry[] = [];
    if (plan.classes.length > 0) {
      await vault.shred(tenant, subject, plan.classes);
      for (const keyClass of plan.classes)
        entries.push({
          ...common,
          category: keyClass,
          operation: 'shredded',
          outcome: 'success',
          reason: reasonOf(policy.find(keyClass), 'erasure-request'),
        });
    }
    entries.push(...(await this.exportsErased(plan.exports, common)));
    entries.push(...(await this.pendingUploadsErased(plan.uploads, common)));
    entries.push(...(await this.orphansErased(plan.orphans, common)));
    for (const ref of plan.leftovers)
      await vault.deleteAllVersions(ref.tenant, ref.subject, ref.keyClass, ref.documentId);
    return entries;
  }

  /** Deletes every version of each of the subject's exports. */
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
   * stored, or the only original of a category erasure deletes. Each marker goes with its object.
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
    const { vault, policy, pseudonyms } = this.ctx;
    const entries: LogEntry[] = [];
    for (const ref of orphans) {
      await vault.deleteAllVersions(ref.tenant, ref.subject, ref.keyClass, ref.documentId);
      entries.push({
        ...common,
        category: ref.keyClass,
        document: await pseudonyms.of(ref.tenant, 'document', ref.documentId),
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
}
