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
import { reschedule, subjectKey, type DocumentItem } from '../retention/retention-items';
import { dueDate, isoOf, laterOf } from '../retention/schedule';
import type { OperationContext } from './context';
import { deleteAllObjectVersions } from '../vault/version-deletion';
import { documentFields, keptBasis, reasonOf } from './log-entries';

/** Versions of one upload key listed before deleting them (a producer writes a key a few times). */
const UPLOAD_VERSIONS_ROUND = 1000;

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
 * upload after the erasure is stored. The retention item is written in a transaction conditional
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
    const { policy, store, vault, pseudonyms } = this.ctx;
    const tenant = event.tenantid;
    const { upload, documentId } = event.data;
    if (
      upload.bucket !== this.options.uploadBucket ||
      !upload.key.startsWith(`${tenant}/`) ||
      upload.key.split('/').some((s) => s === '..' || s === '')
    )
      throw new PermanentError('foreign-object', "upload is not in the tenant's upload prefix");
    const category = policy.category(event.data.category);
    const subject = await pseudonyms.subject(tenant, event.data.subjectId);
    const document = await pseudonyms.of(tenant, 'document', documentId);
    const pk = subjectKey(tenant, subject);
    const sk = `DOC#${document}`;
    const eventTime = isoOf(event.time);
    const base: LogEntry = {
      tenant,
      operation: 'received',
      outcome: 'success',
      subject,
      category: category.id,
      document,
      eventId: event.id,
      eventSource: event.source,
      eventType: event.type,
      legalBasis: category.legalBasis,
      purpose: category.purpose,
    };

    const existing = await store.getDocument(pk, sk);
    if (existing) {
      if (existing.tenant !== tenant || !existing.vaultKey.startsWith(`${tenant}/`))
        throw new PermanentError('foreign-object', 'retention item belongs to another tenant');
      if (existing.eventId !== event.id || existing.eventSource !== event.source)
        throw new PermanentError(
          'duplicate-document',
          'document id already stored by another event',
        );
      // Replay after a crash: the document is stored; finish removing the upload.
      await this.removeUpload(upload.key);
      return [base, this.storedEntry(existing, event)];
    }

    const subjectRecord = await store.getSubject(tenant, subject);
    const tombstone = laterOf(
      subjectRecord.tombstones?.['*'],
      subjectRecord.tombstones?.[category.id],
    );
    const erasedBefore = tombstone !== undefined && eventTime < tombstone;
    if (erasedBefore && category.erasure === 'delete') {
      // Erasure wins: never stored (and whatever a crashed attempt stored is removed).
      await vault.deleteAllVersions(tenant, subject, category.id, documentId);
      await this.removeUpload(upload.key);
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

    let content: Uint8Array;
    let uploadVersion: string | undefined;
    try {
      const object = await this.options.s3.send(
        new GetObjectCommand({ Bucket: upload.bucket, Key: upload.key }),
      );
      uploadVersion = object.VersionId;
      content = await object.Body!.transformToByteArray();
    } catch (error) {
      if (isNotFound(error))
        throw new PermanentError('upload-missing', 'no object at the upload key', { cause: error });
      throw error;
    }
    const sha256 = createHash('sha256').update(content).digest('hex');
    if (event.data.sha256 !== undefined && event.data.sha256 !== sha256) {
      // Untrusted content is not kept either: the producer uploads again.
      await this.removeUpload(upload.key);
      throw new PermanentError('sha256-mismatch', 'upload content does not match its sha256');
    }

    const ref = { tenant, subject, keyClass: category.id, documentId };
    const stored = await vault.put(ref, content, { category: category.id });
    const documentDate = isoOf(event.data.documentDate ?? event.time);
    const due = dueDate(category, {
      documentDate: new Date(documentDate),
      closedAt: subjectRecord.closedAt ? new Date(subjectRecord.closedAt) : undefined,
      fiscalYearEnd: policy.fiscalYearEnd(tenant),
    });
    const item = reschedule({
      pk,
      sk,
      kind: 'document',
      tenant,
      subject,
      documentId,
      document,
      category: category.id,
      keyClass: category.id,
      vaultKey: stored.vaultKey,
      ...(stored.versionId ? { versionId: stored.versionId } : {}),
      size: stored.size,
      sha256: stored.sha256,
      state: 'active',
      ...(erasedBefore
        ? {
            restricted: true,
            restrictionGround: category.restrictionGround,
            restrictedAt: this.ctx.now().toISOString(),
          }
        : {}),
      ...(subjectRecord.holds ? { held: true } : {}),
      eventId: event.id,
      eventSource: event.source,
      eventTime,
      documentDate,
      ...(due ? { dueAt: due.toISOString() } : {}),
      storedAt: this.ctx.now().toISOString(),
      rev: 0,
    });
    await store.createDocument(item, subjectRecord.version);
    await this.removeUploadedVersion(upload.key, uploadVersion);
    return [base, this.storedEntry(item, event)];
  }

  private storedEntry(item: DocumentItem, event: DocumentUploadedV1): LogEntry {
    const category = this.ctx.policy.category(item.category);
    const fields = {
      ...documentFields(item, category),
      eventId: event.id,
      eventSource: event.source,
      eventType: event.type,
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
