import {
  DeleteObjectCommand,
  HeadObjectCommand,
  GetObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { DocumentUploadedV1 } from '../../events';
import { isNotFound, PermanentError } from '../errors';
import type { LogEntry } from '../processing-log/writer';
import type { TenantCategory } from '../retention/tenant-policy';
import {
  relationshipEndOf,
  reschedule,
  subjectKey,
  tombstoneOf,
  uploadMarkerKey,
  type DocumentItem,
  type SubjectRecord,
  type UploadMarker,
} from '../retention/retention-items';
import { isoOf } from '../retention/schedule';
import type { OperationContext } from './context';
import { ConcurrentChangeError } from '../retention/retention-store';
import { deleteAllObjectVersions } from '../vault/version-deletion';
import { documentFields, keptBasis, reasonOf } from './log-entries';

/** Versions of one upload key listed before deleting them (a producer writes a key a few times). */
const UPLOAD_VERSIONS_ROUND = 1000;

/**
 * What an earlier erasure covering an upload makes of it: `restricted` (a category the law
 * keeps), or pending erasure for that request (a category erasure deletes, under a legal hold).
 */
type StoredErasure = 'restricted' | { readonly pending: string };

/** Who and what one upload is about: its pseudonyms, keys and category. */
interface UploadTarget {
  readonly tenant: string;
  readonly subject: string;
  readonly document: string;
  readonly pk: string;
  readonly sk: string;
  readonly category: TenantCategory;
}

/** Options of the {@link DocumentUploadOperation}. */
export interface DocumentUploadOptions {
  /** Client of the upload bucket. */
  readonly s3: S3Client;
  /** The stack's upload bucket: the only bucket documents are taken from. */
  readonly uploadBucket: string;
}

/**
 * `privacy.document.uploaded.v1`: takes a document from the tenant's prefix of the upload bucket,
 * checks it (sha256 when given), stores it encrypted in the vault under the subject's key of its
 * category, writes its retention item (scheduled, or waiting for account closure) and removes
 * every version of the upload object, so nothing is left behind.
 *
 * Refuses (permanent, dead-lettered): another bucket or a key outside `<tenant>/`
 * (`foreign-object`), an unknown category, a missing upload, a digest mismatch, a document id
 * already used by another event (`duplicate-document`).
 *
 * Reordering: an erasure leaves a tombstone with its time on the subject record.
 * An upload whose event time is before the tombstone is erased at once (`erased-before-upload`)
 * when its category may be deleted, or stored restricted when the law requires keeping it; an
 * upload after the erasure is stored. An upload whose retention already ended when it arrives is
 * stored with its past due date and logged so (`retention-ended-before-upload`): the next sweep
 * expires it, within the sweeper's bound, unless a legal hold keeps it. The retention item is written in a transaction conditional
 * on the subject record being unchanged since it was read, so an erasure, closure or hold cannot
 * slip in between (the operation is retried and sees it).
 */
export class DocumentUploadOperation {
  constructor(
    private readonly ctx: OperationContext,
    private readonly options: DocumentUploadOptions,
  ) {}

  /** Applies one upload event; safe to re-run (a replay finds its item and succeeds). */
  async handle(event: DocumentUploadedV1): Promise<LogEntry[]> {
    const { store, vault } = this.ctx;
    const target = await this.targetOf(event);
    const { tenant, subject, category } = target;
    // Before anything is stored: a refused or crashed upload stays findable by an erasure.
    const marker = uploadMarkerOf(target, event);
    await store.putUploadMarker(marker);
    const base: LogEntry = {
      tenant,
      operation: 'received',
      outcome: 'success',
      subject,
      category: category.id,
      document: target.document,
      eventId: event.id,
      eventSource: event.source,
      eventType: event.type,
      legalBasis: category.legalBasis,
      purpose: category.purpose,
    };
    const existing = await store.getDocument(target.pk, target.sk);
    if (existing) {
      const replayed = await this.replayed(existing, event);
      await store.deleteUploadMarker(marker);
      return [base, replayed];
    }

    const subjectRecord = await store.getSubject(tenant, subject);
    const tombstone = tombstoneOf(subjectRecord, category.id);
    const erasedBefore = tombstone !== undefined && isoOf(event.time) < tombstone.time;
    // Under a legal hold nothing is deleted: stored held, erased after the release.
    if (erasedBefore && category.erasure === 'delete' && !subjectRecord.holds) {
      // Erasure wins: never stored (and whatever a crashed attempt stored is removed).
      await vault.deleteAllVersions(tenant, subject, category.id, event.data.documentId);
      await this.removeUpload(event.data.upload.key);
      await store.deleteUploadMarker(marker);
      return [
        base,
        {
          ...base,
          operation: 'erased',
          outcome: 'skipped',
          reason: reasonOf(category, 'erased-before-upload'),
        },
      ];
    }
    const upload = await this.readUpload(event).catch(async (error: unknown) => {
      // An erasure may have removed the upload since the subject was read: retry, and see it.
      const missing = error instanceof PermanentError && error.reason === 'upload-missing';
      if (missing && (await store.getSubject(tenant, subject)).version !== subjectRecord.version)
        throw new ConcurrentChangeError('subject record', error);
      throw error;
    });
    const erasure: StoredErasure | undefined = !erasedBefore
      ? undefined
      : category.erasure === 'delete'
        ? { pending: tombstone.requestId ?? 'erased-before-upload' }
        : 'restricted';
    const item = await this.storeDocument(event, target, subjectRecord, erasure, upload.content);
    await this.removeUploadedVersion(event.data.upload.key, upload.versionId);
    await store.deleteUploadMarker(marker);
    return [base, this.storedEntry(item, event)];
  }

  /**
   * Who and what the upload is about, refusing (`foreign-object`) an upload outside the tenant's
   * prefix of the upload bucket, and an unknown category.
   */
  private async targetOf(event: DocumentUploadedV1): Promise<UploadTarget> {
    const { policy, pseudonyms } = this.ctx;
    const tenant = event.tenantid;
    const { upload, documentId } = event.data;
    if (
      upload.bucket !== this.options.uploadBucket ||
      !upload.key.startsWith(`${tenant}/`) ||
      upload.key.split('/').some((s) => s === '..' || s === '')
    )
      throw new PermanentError('foreign-object', "upload is not in the tenant's upload prefix");
    const category = policy.forTenant(tenant).category(event.data.category);
    const subject = await pseudonyms.subject(tenant, event.data.subjectId);
    const document = await pseudonyms.of(tenant, 'document', documentId);
    const pk = subjectKey(tenant, subject);
    return { tenant, subject, document, pk, sk: `DOC#${document}`, category };
  }

  /**
   * A replay after a crash: the document is stored, so the upload removal is finished. Refuses the
   * item of another tenant, and a document id stored by another event (`duplicate-document`).
   */
  private async replayed(existing: DocumentItem, event: DocumentUploadedV1): Promise<LogEntry> {
    const tenant = event.tenantid;
    if (existing.tenant !== tenant || !existing.vaultKey.startsWith(`${tenant}/`))
      throw new PermanentError('foreign-object', 'retention item belongs to another tenant');
    if (existing.eventId !== event.id || existing.eventSource !== event.source)
      throw new PermanentError('duplicate-document', 'document id already stored by another event');
    await this.removeUpload(event.data.upload.key);
    return this.storedEntry(existing, event);
  }

  /**
   * The upload's content and version, checked against the event's sha256 when given; refuses a
   * missing upload (`upload-missing`) and, after removing it, content that does not match
   * (`sha256-mismatch`: untrusted content is not kept either, the producer uploads again).
   */
  private async readUpload(
    event: DocumentUploadedV1,
  ): Promise<{ content: Uint8Array; versionId: string | undefined }> {
    const { upload } = event.data;
    let content: Uint8Array;
    let versionId: string | undefined;
    try {
      const object = await this.options.s3.send(
        new GetObjectCommand({ Bucket: upload.bucket, Key: upload.key }),
      );
      versionId = object.VersionId;
      content = await object.Body!.transformToByteArray();
    } catch (error) {
      if (isNotFound(error))
        throw new PermanentError('upload-missing', 'no object at the upload key', { cause: error });
      throw error;
    }
    const sha256 = createHash('sha256').update(content).digest('hex');
    if (event.data.sha256 !== undefined && event.data.sha256 !== sha256) {
      await this.removeUpload(upload.key);
      throw new PermanentError('sha256-mismatch', 'upload content does not match its sha256');
    }
    return { content, versionId };
  }

  /**
   * Stores the content in the vault and creates its retention item: scheduled from its anchor,
   * restricted when an earlier erasure covers a category the law keeps, held under a legal hold
   * (and marked for the earlier erasure when it covers a category erasure deletes). The item is
   * written only if the subject record is unchanged since it was read.
   */
  private async storeDocument(
    event: DocumentUploadedV1,
    target: UploadTarget,
    subjectRecord: SubjectRecord,
    erasure: StoredErasure | undefined,
    content: Uint8Array,
  ): Promise<DocumentItem> {
    const restricted = erasure === 'restricted';
    const { policy, store, vault } = this.ctx;
    const { tenant, subject, category } = target;
    const { documentId } = event.data;
    const ref = { tenant, subject, keyClass: category.id, documentId };
    const stored = await vault.put(ref, content, { category: category.id });
    const tenantPolicy = policy.forTenant(tenant);
    const documentDate = tenantPolicy
      .documentDate(event.data.documentDate ?? event.time)
      .toISOString();
    const due = tenantPolicy.dueDate(category, {
      documentDate,
      closedAt: relationshipEndOf(subjectRecord),
      restricted,
    });
    const item = reschedule({
      pk: target.pk,
      sk: target.sk,
      kind: 'document',
      tenant,
      subject,
      documentId,
      document: target.document,
      category: category.id,
      keyClass: category.id,
      vaultKey: stored.vaultKey,
      ...(stored.versionId ? { versionId: stored.versionId } : {}),
      size: stored.size,
      sha256: stored.sha256,
      state: 'active',
      ...(typeof erasure === 'object' ? { erasurePending: erasure.pending } : {}),
      ...(restricted
        ? {
            restricted: true,
            restrictionGround: category.restrictionGround,
            restrictedAt: this.ctx.now().toISOString(),
          }
        : {}),
      ...(subjectRecord.holds ? { held: true } : {}),
      eventId: event.id,
      eventSource: event.source,
      eventTime: isoOf(event.time),
      documentDate,
      ...(due ? { dueAt: due.toISOString() } : {}),
      storedAt: this.ctx.now().toISOString(),
      rev: 0,
    });
    await store.createDocument(item, subjectRecord.version);
    return item;
  }

  private storedEntry(item: DocumentItem, event: DocumentUploadedV1): LogEntry {
    const category = this.ctx.policy.category(item.category);
    const fields = {
      ...documentFields(item, category),
      eventId: event.id,
      eventSource: event.source,
      eventType: event.type,
    };
    if (item.erasurePending)
      return {
        ...fields,
        operation: 'erased',
        outcome: 'skipped',
        requestId: item.erasurePending,
        reason: reasonOf(
          category,
          'erased-before-upload',
          'legal-hold',
          'erasure-deferred-until-release',
        ),
      };
    if (item.restricted)
      return {
        ...fields,
        operation: 'restricted',
        outcome: 'kept',
        legalBasis: keptBasis(category),
        reason: reasonOf(category, 'erased-before-upload', 'kept-under-legal-duty'),
      };
    return {
      ...fields,
      operation: 'stored',
      outcome: 'success',
      reason: reasonOf(
        category,
        item.state === 'waiting-anchor' ? 'waiting-for-relationship-end' : undefined,
        // Due before it arrived: expired by the next sweep (TTL may come first), unless held.
        item.dueAt !== undefined && item.dueAt <= item.storedAt
          ? 'retention-ended-before-upload'
          : undefined,
        item.held ? 'legal-hold' : undefined,
      ),
    };
  }

  /**
   * Deletes the version that was read (DeleteObject is free; a listing is billed like a PUT),
   * then checks with one HEAD that nothing else is left at the key; only if something is (the
   * producer wrote the key more than once) does it fall back to removing every version.
   */
  private async removeUploadedVersion(key: string, versionId: string | undefined): Promise<void> {
    if (versionId === undefined) return this.removeUpload(key);
    const bucket = this.options.uploadBucket;
    await this.options.s3.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
    );
    try {
      await this.options.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    await this.removeUpload(key);
  }

  /**
   * Deletes every version (and delete marker) of the upload object: no orphan is left (a version
   * S3 refuses to delete fails the operation, transiently, so it is retried).
   */
  private async removeUpload(key: string): Promise<void> {
    await deleteAllObjectVersions(this.options.s3, {
      bucket: this.options.uploadBucket,
      prefix: key,
      exactKey: key,
      roundSize: UPLOAD_VERSIONS_ROUND,
    });
  }
}

/** The marker of an upload in progress, kept until its upload object is removed. */
function uploadMarkerOf(target: UploadTarget, event: DocumentUploadedV1): UploadMarker {
  return {
    pk: target.pk,
    sk: uploadMarkerKey(event.data.upload.key),
    kind: 'upload',
    tenant: target.tenant,
    subject: target.subject,
    documentId: event.data.documentId,
    document: target.document,
    category: target.category.id,
    uploadKey: event.data.upload.key,
    eventTime: isoOf(event.time),
  };
}
