import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { DocumentUploadedV1 } from '../../events';
import { eventKeyOf, payloadHashOf } from '../batch/event-key';
import type { KeyedOutcome } from '../batch/operation-frame';
import type { LogObjects } from '../processing-log/log-object-check';
import { isNotFound, PermanentError, TransientError } from '../errors';
import { DEFAULT_MAX_DOCUMENT_BYTES, FUNCTIONS } from '../functions/declarations';
import { logPointerDecision } from '../processing-log/log-pointer';
import type { LogEntry } from '../processing-log/writer';
import type { TenantCategory } from '../retention/tenant-policy';
import {
  keyDestroying,
  relationshipEndOf,
  reschedule,
  subjectKey,
  tombstoneOf,
  uploadMarkerKey,
  type DocumentItem,
  type EventReceipt,
  type SubjectRecord,
  type UploadMarker,
  type UploadReceipt,
  uploadReceiptOf,
} from '../retention/retention-items';
import { isoOf } from '../retention/schedule';
import type { OperationContext } from './context';
import { ConcurrentChangeError } from '../retention/retention-store';
import { DocumentDigestMismatchError } from '../vault/errors';
import { deleteAllObjectVersions } from '../vault/version-deletion';
import { documentFields, keptBasis, reasonOf } from './log-entries';
import { vaultMetadataOf } from './vault-metadata';

/** Versions of one upload key listed before deleting them (a producer writes a key a few times). */
const UPLOAD_VERSIONS_ROUND = 1000;

/**
 * How long after an item was written its log object may still be in flight (the writer's
 * invocation may still run): the upload function's timeout. A replay within it is retried later.
 */
const IN_FLIGHT_MS = FUNCTIONS['document-upload'].timeoutSeconds * 1000;

/** Raised when a duplicate arrives while the first delivery may still be writing its log. */
class UploadInFlightError extends TransientError {
  constructor() {
    super('in-flight', 'the same upload event is being applied by another invocation; retry');
  }
}

/** What the upload run knows of its event and its invocation, for its receipt and replays. */
interface Run {
  readonly event: DocumentUploadedV1;
  /** Its `received` record. */
  readonly base: LogEntry;
  readonly log: LogObjects;
  readonly receipt: EventReceipt;
}

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
  /**
   * The largest upload taken, in bytes; a larger one is refused before it is read.
   * @default DEFAULT_MAX_DOCUMENT_BYTES (512 MiB)
   */
  readonly maxDocumentBytes?: number;
}

/** An upload being read: its content as a stream, its size, and the version read. */
interface UploadBody {
  readonly body: Readable;
  readonly size: number;
  readonly versionId: string | undefined;
}

/**
 * `privacy.document.uploaded.v1`: takes a document from the tenant's prefix of the upload bucket,
 * checks it (sha256 when given), stores it encrypted in the vault under the subject's key of its
 * category, writes its retention item (scheduled, or waiting for account closure) and removes
 * every version of the upload object, so nothing is left behind.
 *
 * Refuses (permanent, dead-lettered): another bucket or a key outside `<tenant>/`
 * (`foreign-object`), an unknown category, a missing upload, an upload larger than the size limit
 * (`document-too-large`, told by the GetObject answer's Content-Length before a byte of the body
 * is read), a digest mismatch, a document id already used by another event
 * (`duplicate-document`). A document streams from the upload bucket into the vault, never held
 * whole in memory.
 *
 * Reordering: an erasure leaves a tombstone with its time on the subject record.
 * An upload whose event time is before the tombstone is erased at once (`erased-before-upload`)
 * when its category may be deleted, or stored restricted when the law requires keeping it; an
 * upload after the erasure is stored; under a legal hold it is stored held, and erased after the
 * release. An upload whose retention already ended when it arrives is stored with its past due
 * date and logged so (`retention-ended-before-upload`): the next sweep expires it, within the
 * sweeper's bound, unless a legal hold keeps it.
 *
 * Applied once per event by its own writes, with no Powertools step around it: its batch has
 * claimed the event's key (`tenantid`, `source`, `id`) for its payload (`EventClaims`: another
 * payload is refused there, whatever document it names), and the retention item is created only
 * if absent and carries the event's receipt (the digest of its key, the digest of its payload, the
 * log object its records went to); an upload never stored leaves a receipt item instead. A
 * redelivery finds it: the same event is a replay (its records logged again only if their log
 * object was never written), the same key with another payload is refused
 * (`id-reused-with-different-payload`), another event's document id too (`duplicate-document`).
 *
 * Erasure finds every upload in progress: a marker (`UPLOAD#…`) is written before anything is
 * stored and deleted once the upload object is removed, so one a refused or crashed upload left
 * lets an erasure of the subject remove its upload object and vault copy.
 *
 * Concurrency without a transaction: after creating the item, the subject record is read again
 * (consistent); if it changed since it was first read, an erasure, closure or hold may have
 * missed the item, which is withdrawn and the operation retried (it then sees the change), unless
 * that operation has already changed the item (then it is that operation's, and stays).
 */
export class DocumentUploadOperation {
  constructor(
    private readonly ctx: OperationContext,
    private readonly options: DocumentUploadOptions,
  ) {}

  /**
   * Applies one upload event once (see the class); safe to re-run. `log` names this invocation's
   * log object and tells whether an earlier one was written.
   */
  async handle(event: DocumentUploadedV1, log: LogObjects): Promise<KeyedOutcome> {
    const target = await this.targetOf(event);
    // Before anything is stored: a refused or crashed upload stays findable by an erasure.
    const marker = uploadMarkerOf(target, event);
    await this.ctx.store.putUploadMarker(marker);
    const outcome = await this.applyUpload(event, target, log);
    // Its upload object is removed (a refusal throws and leaves the marker).
    await this.ctx.store.deleteUploadMarker(marker);
    return outcome;
  }

  /** The upload applied once, its upload object removed (see the class). */
  private async applyUpload(
    event: DocumentUploadedV1,
    target: UploadTarget,
    log: LogObjects,
  ): Promise<KeyedOutcome> {
    const { store, vault } = this.ctx;
    const { tenant, subject, category } = target;
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
    const run: Run = {
      event,
      base,
      log,
      receipt: {
        eventKey: eventKeyOf(event),
        payloadHash: payloadHashOf(event),
        logObjectKey: log.objectKey,
        storedAt: this.ctx.now().toISOString(),
      },
    };
    // A first look (half a read unit); the conditional create below settles a stale answer.
    const seen = await store.getDocument(target.pk, target.sk, { consistent: false });
    if (seen) return this.replayed(seen, run, [base, this.storedEntry(seen, event)]);

    const subjectRecord = await store.getSubject(tenant, subject);
    const tombstone = tombstoneOf(subjectRecord, category.id);
    const erasedBefore = tombstone !== undefined && isoOf(event.time) < tombstone.time;
    // Under a legal hold nothing is deleted: stored held, erased after the release.
    if (erasedBefore && category.erasure === 'delete' && !subjectRecord.holds) {
      const entries = [
        base,
        {
          ...base,
          operation: 'erased',
          outcome: 'skipped',
          reason: reasonOf(category, 'erased-before-upload'),
        } satisfies LogEntry,
      ];
      const receipt = await store.getUploadReceipt(target.pk, `ERASED#${target.document}`);
      if (receipt) return this.replayed(receipt, run, entries);
      // Erasure wins: never stored (and whatever a crashed attempt stored is removed).
      await vault.deleteAllVersions(tenant, subject, category.id, event.data.documentId);
      await this.removeUpload(event.data.upload.key);
      const written = await store.putUploadReceipt(this.receiptOf(target, run));
      if (!written) throw new ConcurrentChangeError('upload receipt');
      return { entries, replay: false, logged: true };
    }
    // An erasure or expiry destroying this category's key or objects: stored after it (new key).
    if (keyDestroying(subjectRecord, category.id, this.ctx.now()))
      throw new ConcurrentChangeError('subject record (key destruction in progress)');
    const upload = await this.readUpload(event, target, run, base).catch(async (error: unknown) => {
      // An erasure may have removed the upload since the subject was read: retry, and see it.
      const missing = error instanceof PermanentError && error.reason === 'upload-missing';
      if (missing && (await store.getSubject(tenant, subject)).version !== subjectRecord.version)
        throw new ConcurrentChangeError('subject record', error);
      throw error;
    });
    if ('replay' in upload) return upload;
    const erasure: StoredErasure | undefined = !erasedBefore
      ? undefined
      : category.erasure === 'delete'
        ? { pending: tombstone.requestId ?? 'erased-before-upload' }
        : 'restricted';
    const stored = await this.storeDocument(run, target, subjectRecord, erasure, upload).finally(
      () => upload.body.destroy(), // read to its end, or dropped when the store failed first
    );
    if ('replay' in stored) return stored;
    await this.removeUploadedVersion(event.data.upload.key, upload.versionId);
    return { entries: [base, this.storedEntry(stored, event)], replay: false, logged: true };
  }

  /** The receipt of an upload never stored, kept for the redelivery window. */
  private receiptOf(target: UploadTarget, run: Run): UploadReceipt {
    return uploadReceiptOf(target.pk, target.document, run.receipt, this.ctx.now());
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
   * A redelivery of an event that was applied: the upload removal is finished, and its records are
   * logged again only if the log object they were meant for does not hold them (never written, or
   * written after that run failed past its item); the receipt then points at this invocation's
   * object. Refuses the item of another tenant, a document id stored by
   * another event (`duplicate-document`), and the event's key with another payload
   * (`id-reused-with-different-payload`); retried later while the first delivery may still run.
   */
  private async replayed(
    existing: EventReceipt & Partial<Pick<DocumentItem, 'tenant' | 'pk' | 'sk'>>,
    run: Run,
    entries: LogEntry[],
  ): Promise<KeyedOutcome> {
    const { event, log } = run;
    const tenant = event.tenantid;
    if (existing.tenant !== undefined && existing.tenant !== tenant)
      throw new PermanentError('foreign-object', 'retention item belongs to another tenant');
    if (existing.eventKey !== run.receipt.eventKey)
      throw new PermanentError('duplicate-document', 'document id already stored by another event');
    if (existing.payloadHash !== run.receipt.payloadHash)
      throw new PermanentError(
        'id-reused-with-different-payload',
        'event key used before with another payload',
      );
    await this.removeUpload(event.data.upload.key);
    const from = existing.logObjectKey;
    // The first run wrote its item before its last steps: its object may hold no records of it
    // (that run failed after the item, or this very run: the SDK retried a create that had
    // succeeded). Only the object, or for this invocation's object its queue, can tell.
    const pointer = { logObjectKey: from, at: existing.storedAt };
    const decision = await logPointerDecision(
      log,
      pointer,
      entries[0],
      this.ctx.now(),
      IN_FLIGHT_MS,
    );
    if (decision === 'logged') return { entries, replay: true, logged: false };
    if (decision === 'log-here') return { entries, replay: true, logged: true };
    if (decision === 'in-flight') throw new UploadInFlightError();
    const key = existing as { pk: string; sk: string };
    const at = this.ctx.now().toISOString();
    if (!(await this.ctx.store.moveLogObject(key, from, log.objectKey, at)))
      throw new ConcurrentChangeError('upload receipt');
    return { entries, replay: true, logged: true };
  }

  /**
   * The upload's content as a stream, its size and version; refuses a missing upload
   * (`upload-missing`) and, after removing it, an upload over the size limit
   * (`document-too-large`: its body is never read, the producer cannot have it taken).
   */
  private async readUpload(
    event: DocumentUploadedV1,
    target: UploadTarget,
    run: Run,
    base: LogEntry,
  ): Promise<UploadBody | KeyedOutcome> {
    const { upload } = event.data;
    let object;
    try {
      object = await this.options.s3.send(
        new GetObjectCommand({ Bucket: upload.bucket, Key: upload.key }),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
      // Gone: a replay whose item the first look missed, or an upload that never came.
      const stored = await this.ctx.store.getDocument(target.pk, target.sk);
      if (stored) return this.replayed(stored, run, [base, this.storedEntry(stored, event)]);
      throw new PermanentError('upload-missing', 'no object at the upload key', { cause: error });
    }
    const body = object.Body as Readable;
    const size = object.ContentLength;
    const limit = this.options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
    if (size === undefined || size > limit) {
      body.destroy(); // the connection is dropped: not a byte more is read
      await this.removeUpload(upload.key);
      throw new PermanentError(
        'document-too-large',
        `upload is larger than the ${limit}-byte limit`,
      );
    }
    return { body, size, versionId: object.VersionId };
  }

  /**
   * Streams the content into the vault (checked against the event's sha256 when given: content
   * that does not match is not stored, and its upload is removed, `sha256-mismatch`: untrusted
   * content is not kept either, the producer uploads again) and creates its retention item:
   * scheduled from its anchor,
   * restricted when an earlier erasure covers a category the law keeps, held under a legal hold
   * (and marked for the earlier erasure when it covers a category erasure deletes). The item is
   * created only if absent (else: a replay), and stays only if the subject record is unchanged
   * since it was read (see the class).
   */
  private async storeDocument(
    run: Run,
    target: UploadTarget,
    subjectRecord: SubjectRecord,
    erasure: StoredErasure | undefined,
    upload: UploadBody,
  ): Promise<DocumentItem | KeyedOutcome> {
    const { event } = run;
    const restricted = erasure === 'restricted';
    const { policy, store, vault } = this.ctx;
    const { tenant, subject, category } = target;
    const { documentId } = event.data;
    const ref = { tenant, subject, keyClass: category.id, documentId };
    const source = { body: upload.body, size: upload.size, sha256: event.data.sha256 };
    const tenantPolicy = policy.forTenant(tenant);
    const documentDate = tenantPolicy
      .documentDate(event.data.documentDate ?? event.time)
      .toISOString();
    const metadata = vaultMetadataOf({
      category: category.id,
      document: target.document,
      documentDate,
      eventTime: isoOf(event.time),
      eventKey: run.receipt.eventKey,
      payloadHash: run.receipt.payloadHash,
    });
    const stored = await vault.putStream(ref, source, metadata).catch(async (error: unknown) => {
      if (error instanceof DocumentDigestMismatchError)
        await this.removeUpload(event.data.upload.key);
      throw error;
    });
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
      eventTime: isoOf(event.time),
      documentDate,
      ...(due ? { dueAt: due.toISOString() } : {}),
      ...run.receipt,
      rev: 0,
    });
    if (!(await store.createDocument(item))) {
      const existing = await store.getDocument(item.pk, item.sk);
      if (!existing) throw new ConcurrentChangeError('document item');
      return this.replayed(existing, run, [run.base, this.storedEntry(existing, event)]);
    }
    const now = await store.getSubject(tenant, subject);
    if (now.version === subjectRecord.version) return item;
    if (await store.withdrawDocument(item)) throw new ConcurrentChangeError('subject record');
    // Refused: the operation that changed the subject has made the item its own, or the item is
    // already gone (this withdrawal took effect and its answer was lost, or that operation removed
    // it). Only an item still there is logged stored; a gone one is retried, and the retry sees why.
    const current = await store.getDocument(item.pk, item.sk);
    if (!current) throw new ConcurrentChangeError('document item');
    return current;
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
   * Deletes the version that was read (DeleteObject is free). Nothing checks for other versions
   * at the key (a HEAD is billed like a GET): a producer that wrote the key again left a stray
   * the upload bucket's lifecycle rule removes.
   */
  private async removeUploadedVersion(key: string, versionId: string | undefined): Promise<void> {
    if (versionId === undefined) return this.removeUpload(key);
    await this.options.s3.send(
      new DeleteObjectCommand({
        Bucket: this.options.uploadBucket,
        Key: key,
        VersionId: versionId,
      }),
    );
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
