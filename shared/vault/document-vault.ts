import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { objectVersionPages } from '../aws/object-versions';
import { isNotFound } from '../errors';
import {
  DOCUMENT_MAGIC,
  FRAMED_FORMAT,
  FRAMED_HEADER_BYTES,
  FrameDecryptor,
  FrameEncryptor,
  readFramedHeader,
} from './document-frames';
import {
  collect,
  PlaintextMeter,
  readHead,
  streamInto,
  type DocumentSource,
  type OpenedDocument,
} from './document-streams';
import { decryptDocument, documentKeyId } from './envelope';
import {
  DocumentDigestMismatchError,
  DocumentIntegrityError,
  DocumentNotFoundError,
  DocumentShreddedError,
  DocumentStreamSizeError,
  InvalidVaultReferenceError,
} from './errors';
import { DEFAULT_KEY_CACHE_TTL_MS, KeyHierarchy, type SubjectKey } from './key-hierarchy';
import {
  checkDocumentId,
  checkKeyClass,
  checkSubject,
  checkTenant,
  parseVaultKey,
  validateVaultRef,
  vaultKeyOf,
  type VaultDocumentRef,
} from './vault-ref';
import {
  DELETE_BATCH,
  deleteAllObjectVersions,
  deleteKnownVersions,
  type DeletionResult,
} from './version-deletion';

export type { DocumentSource, OpenedDocument } from './document-streams';

/** A document as stored in the vault. */
export interface StoredDocument {
  /** S3 key in the vault bucket: `${tenant}/${subject}/${keyClass}/${documentId}`. */
  readonly vaultKey: string;
  readonly versionId?: string;
  /** Plaintext bytes. */
  readonly size: number;
  /** Plaintext sha256, hex. */
  readonly sha256: string;
  /** The reference the vault key stands for. */
  readonly ref?: VaultDocumentRef;
}

/**
 * A document as listed from its object's metadata: the digest is there only when it was known
 * before the document was streamed in (given by its producer, or computed from memory).
 */
export type ListedDocument = Omit<StoredDocument, 'sha256'> & { readonly sha256?: string };

/** A vault key as a listing of every version sees it (current or not, delete markers too). */
export interface VaultObject {
  readonly vaultKey: string;
  /** The reference it stands for; undefined for a key the vault did not make. */
  readonly ref?: VaultDocumentRef;
  /** When its newest version (or delete marker) was written (ISO). */
  readonly newest: string;
  /** True when its current version is a document (not a delete marker). */
  readonly current: boolean;
}

/** What the current version of a vault object says of itself, without reading its content. */
export interface VaultObjectFacts {
  /** The caller's metadata (no `po-` key). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Id (hex) of the subject key it was written under, when recorded. */
  readonly keyId?: string;
  readonly versionId?: string;
  /** Plaintext bytes and digest, when recorded. */
  readonly size?: number;
  readonly sha256?: string;
}

/** Options of a {@link DocumentVault}. */
export interface DocumentVaultOptions {
  readonly s3: S3Client;
  readonly dynamo: DynamoDBDocumentClient;
  readonly kms: KMSClient;
  /** The vault bucket (versioned, SSE-KMS at rest). */
  readonly bucket: string;
  /** The key store table (pk, sk). */
  readonly keyStoreTable: string;
  /**
   * The KMS key protecting the tenant wrapping keys. Absent for a vault that only deletes
   * (`shred`, `deleteAllVersions`): `put` and `get` then fail with a configuration error.
   */
  readonly wrappingKeyId?: string;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * How long unwrapped keys stay in memory (tenant wrapping keys and subject keys). Also the
   * bound on how long another instance may still read a subject's documents after a shred.
   * @default 5 minutes
   */
  readonly cacheTtlMs?: number;
  /** How long unwrapped subject keys stay in memory, when it should be shorter. @default cacheTtlMs */
  readonly subjectKeyCacheTtlMs?: number;
  /** Concurrent HeadObject calls of {@link DocumentVault.listDocuments}. @default 16 */
  readonly listConcurrency?: number;
  /**
   * Most object versions {@link DocumentVault.deleteAllVersions} lists (and holds in memory)
   * before deleting them; a positive multiple of 1,000. @default 100000
   */
  readonly deletionRoundSize?: number;
}

const METADATA_KEY = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** Object metadata the vault writes; callers may not use the `po-` prefix. */
const META_FORMAT = 'po-format';
const META_SIZE = 'po-size';
const META_SHA256 = 'po-sha256';
/** The id (hex) of the subject key the object was written under: tells a destroyed key apart. */
const META_KEY_ID = 'po-key-id';
/**
 * Bytes of each part of a vault write (the multipart minimum is 5 MiB), and parts sent at once:
 * what a write holds in memory, whatever the document's size.
 */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

/**
 * The document vault: documents envelope-encrypted under per-subject keys (one per key class),
 * themselves wrapped under a per-tenant key that KMS protects (see {@link KeyHierarchy}).
 *
 * - `putStream` / `open` (and `put` / `get` in memory): framed AES-256-GCM (`document-frames.ts`),
 *   a key of its own per object, each frame authenticated and bound to tenant, subject, key class,
 *   document id, its place and whether it is the last; streamed both ways, so a document is never
 *   held whole in memory. Objects of the whole-object format (1) stay readable.
 * - `shred`: destroys subject keys; everything under them is unreadable at once, in a time that
 *   does not depend on the number of documents. Another instance may serve a cached key for at
 *   most the cache TTL.
 * - `deleteAllVersions`: physical removal of every version and delete marker.
 *
 * KMS is called once per tenant per cache period, not per document; shredding, deleting and
 * listing never call KMS. Nothing here logs.
 */
export class DocumentVault {
  private readonly keys: KeyHierarchy;
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly listConcurrency: number;
  private readonly deletionRound: number;

  constructor(options: DocumentVaultOptions) {
    const cacheTtlMs = options.cacheTtlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.listConcurrency = options.listConcurrency ?? 16;
    this.deletionRound = options.deletionRoundSize ?? 100 * DELETE_BATCH;
    if (!Number.isInteger(this.deletionRound / DELETE_BATCH) || this.deletionRound <= 0)
      throw new RangeError('DocumentVault: deletionRoundSize must be a positive multiple of 1000');
    this.keys = new KeyHierarchy({
      dynamo: options.dynamo,
      kms: options.kms,
      table: options.keyStoreTable,
      wrappingKeyId: options.wrappingKeyId,
      now: options.now,
      wrappingKeyTtlMs: cacheTtlMs,
      subjectKeyTtlMs: options.subjectKeyCacheTtlMs ?? cacheTtlMs,
    });
  }

  /**
   * Encrypts and stores a document held in memory (see {@link putStream}).
   */
  async put(
    ref: VaultDocumentRef,
    plaintext: Uint8Array,
    metadata: Record<string, string> = {},
  ): Promise<StoredDocument> {
    const sha256 = createHash('sha256').update(plaintext).digest('hex');
    const body = Readable.from([Buffer.from(plaintext)]);
    return this.putStream(ref, { body, size: plaintext.length, sha256 }, metadata);
  }

  /**
   * Encrypts and stores a document as it streams from `source.body`, creating the subject key of
   * `ref.keyClass` if needed: framed AES-256-GCM (`document-frames.ts`), sent by a multipart
   * upload, so that at most a few parts are in memory whatever its size. Idempotent for the same
   * ref: it overwrites the same S3 key (a new version). The object exists only if the whole
   * stream was read and matched: a source that ends at another size than `source.size`
   * (`upload-truncated`, transient) or whose digest differs from `source.sha256`
   * (`sha256-mismatch`, permanent) stores nothing. `metadata` is stored in clear as object
   * metadata (protected only by SSE-KMS): it must carry no personal data; keys `[a-z0-9-]`, not
   * starting with `po-`.
   */
  async putStream(
    ref: VaultDocumentRef,
    source: DocumentSource,
    metadata: Record<string, string> = {},
  ): Promise<StoredDocument> {
    this.keys.wrappingKeyId(); // an erase-only vault refuses before writing anything
    const vaultKey = vaultKeyOf(ref);
    for (const name of Object.keys(metadata)) {
      if (!METADATA_KEY.test(name) || name.startsWith('po-'))
        throw new InvalidVaultReferenceError('metadata key');
    }
    const subjectKey = await this.keys.subjectKey(ref.tenant, ref.subject, ref.keyClass, true);
    if (!subjectKey) throw new Error('unreachable: subject key creation returned nothing');
    const meter = new PlaintextMeter(source.size, source.sha256, (mismatch) =>
      mismatch === 'digest' ? new DocumentDigestMismatchError() : new DocumentStreamSizeError(),
    );
    const encrypted = new FrameEncryptor(subjectKey.key, subjectKey.id, ref);
    const upload = new Upload({
      client: this.s3,
      params: {
        Bucket: this.bucket,
        Key: vaultKey,
        Body: encrypted,
        ContentType: 'application/octet-stream',
        Metadata: {
          ...metadata,
          [META_FORMAT]: String(FRAMED_FORMAT),
          [META_SIZE]: String(source.size),
          [META_KEY_ID]: subjectKey.id.toString('hex'),
          ...(source.sha256 !== undefined ? { [META_SHA256]: source.sha256 } : {}),
        },
      },
      partSize: PART_BYTES,
      queueSize: PARTS_IN_FLIGHT,
    });
    const response = await streamInto(pipeline(source.body, meter, encrypted), encrypted, upload);
    return {
      vaultKey,
      ...(response.VersionId ? { versionId: response.VersionId } : {}),
      size: source.size,
      sha256: meter.sha256Hex(),
      ref: { ...ref },
    };
  }

  /**
   * Reads and decrypts the current version of a document into memory (see {@link open}).
   */
  async get(ref: VaultDocumentRef): Promise<Uint8Array> {
    const { body } = await this.open(ref);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * Opens the current version of a document for reading: the plaintext as a stream, and its size.
   * A framed object is decrypted frame by frame as it is read (each frame's plaintext released
   * once its tag is verified); a whole-object one (format 1) is read whole, as it was written.
   * Throws, before any byte is returned, DocumentShreddedError when the subject key it was written
   * under was destroyed (even though the ciphertext still exists), DocumentNotFoundError when
   * there is no such object, DocumentIntegrityError for a malformed header; the stream fails with
   * DocumentIntegrityError when the content fails authentication or its digest.
   */
  async open(ref: VaultDocumentRef): Promise<OpenedDocument> {
    this.keys.wrappingKeyId(); // an erase-only vault refuses before reading anything
    const vaultKey = vaultKeyOf(ref);
    let object;
    try {
      object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: vaultKey }));
    } catch (error) {
      if (isNotFound(error)) throw new DocumentNotFoundError({ cause: error });
      throw error;
    }
    if (!object.Body) throw new DocumentIntegrityError('empty object');
    const body = object.Body as Readable;
    const expectedSha256 = object.Metadata?.[META_SHA256];
    const declaredSize = Number(object.Metadata?.[META_SIZE]);
    const size = Number.isInteger(declaredSize) && declaredSize >= 0 ? declaredSize : undefined;
    try {
      const { head, rest } = await readHead(body, FRAMED_HEADER_BYTES);
      if (head.length > DOCUMENT_MAGIC.length && head[DOCUMENT_MAGIC.length] === FRAMED_FORMAT) {
        const header = readFramedHeader(head);
        const subjectKey = await this.subjectKeyOf(ref, header.keyId);
        const plaintext = new FrameDecryptor(subjectKey.key, header, ref);
        const meter = new PlaintextMeter(
          size,
          expectedSha256,
          (mismatch) => new DocumentIntegrityError(`${mismatch} mismatch`),
        );
        pipeline(rest, plaintext, meter).catch(() => undefined); // the error reaches `meter`
        return { body: meter, ...(size !== undefined ? { size } : {}) };
      }
      // The whole-object format: one tag over the whole object, so it is read whole.
      const whole = Buffer.concat([head, await collect(rest)]);
      const subjectKey = await this.subjectKeyOf(ref, documentKeyId(whole));
      const plaintext = decryptDocument(subjectKey.key, ref, whole);
      if (
        expectedSha256 !== undefined &&
        createHash('sha256').update(plaintext).digest('hex') !== expectedSha256
      )
        throw new DocumentIntegrityError('digest mismatch');
      return { body: Readable.from([plaintext]), size: plaintext.length };
    } catch (error) {
      body.destroy();
      throw error;
    }
  }

  /**
   * The subject key a document was written under (key id from its header); DocumentShreddedError
   * when that key no longer exists.
   */
  private async subjectKeyOf(ref: VaultDocumentRef, keyId: Buffer): Promise<SubjectKey> {
    let subjectKey = await this.keys.subjectKey(ref.tenant, ref.subject, ref.keyClass, false);
    if (subjectKey && !subjectKey.id.equals(keyId)) {
      // The cache may hold an older key of this class: read the key store once more.
      this.keys.forgetSubjectKey(ref.tenant, ref.subject, ref.keyClass);
      subjectKey = await this.keys.subjectKey(ref.tenant, ref.subject, ref.keyClass, false);
    }
    // No key, or a newer key than the one this document was written under: its key was destroyed.
    if (!subjectKey || !subjectKey.id.equals(keyId)) throw new DocumentShreddedError();
    return subjectKey;
  }

  /**
   * Crypto-shreds: destroys the subject's keys (all classes, or only `keyClasses`) in the key
   * store and in this instance's cache. Everything stored under them is unreadable at once; the
   * cost depends on the number of key classes, never on the number of documents. No KMS call.
   * Idempotent: a second call destroys nothing and returns 0.
   */
  async shred(
    tenant: string,
    subject: string,
    keyClasses?: readonly string[],
  ): Promise<{ keysDestroyed: number }> {
    checkTenant(tenant);
    checkSubject(subject);
    keyClasses?.forEach(checkKeyClass);
    const keysDestroyed = await this.keys.destroySubjectKeys(tenant, subject, keyClasses);
    return { keysDestroyed };
  }

  /**
   * The key classes the subject still has a key of (strongly consistent read, no cache, no KMS):
   * what a crypto-shred of the subject can destroy.
   */
  async keyClasses(tenant: string, subject: string): Promise<string[]> {
    checkTenant(tenant);
    checkSubject(subject);
    return this.keys.subjectKeyClasses(tenant, subject);
  }

  /**
   * True when no subject key of the class exists in the key store (strongly consistent read, no
   * cache): it was destroyed, or never created (then nothing was ever stored under it).
   */
  async isShredded(tenant: string, subject: string, keyClass: string): Promise<boolean> {
    checkTenant(tenant);
    checkSubject(subject);
    checkKeyClass(keyClass);
    return !(await this.keys.hasSubjectKey(tenant, subject, keyClass));
  }

  /**
   * Physically removes every object version and delete marker of the subject (or of one key
   * class, or of one document when `documentId` is given too); see `deleteAllObjectVersions`.
   * Versions S3 refuses to delete raise PartialDeletionError (transient: retry the whole call, it
   * is idempotent). Does not touch keys: shred first for immediate unreadability.
   */
  async deleteAllVersions(
    tenant: string,
    subject: string,
    keyClass?: string,
    documentId?: string,
  ): Promise<DeletionResult> {
    checkTenant(tenant);
    checkSubject(subject);
    if (keyClass !== undefined) checkKeyClass(keyClass);
    if (documentId !== undefined) {
      if (keyClass === undefined)
        throw new InvalidVaultReferenceError('document id without key class');
      checkDocumentId(documentId);
    }
    const exactKey =
      documentId !== undefined ? `${tenant}/${subject}/${keyClass}/${documentId}` : undefined;
    const prefix =
      exactKey ?? `${tenant}/${subject}/${keyClass !== undefined ? `${keyClass}/` : ''}`;
    return deleteAllObjectVersions(this.s3, {
      bucket: this.bucket,
      prefix,
      exactKey,
      roundSize: this.deletionRound,
    });
  }

  /**
   * Physically removes the stored version of each document (the version its upload wrote), 1,000
   * per DeleteObjects call, without listing. Other versions of the same key, if any, are left to
   * {@link deleteAllVersions}.
   */
  async deleteStoredVersions(
    stored: ReadonlyArray<VaultDocumentRef & { readonly versionId: string }>,
  ): Promise<number> {
    for (const ref of stored) {
      checkTenant(ref.tenant);
      checkSubject(ref.subject);
      checkKeyClass(ref.keyClass);
      checkDocumentId(ref.documentId);
    }
    return deleteKnownVersions(
      this.s3,
      this.bucket,
      stored.map((ref) => ({ Key: vaultKeyOf(ref), VersionId: ref.versionId })),
    );
  }

  /**
   * Every document of the subject that has any object version or delete marker left in the vault
   * (current or not), whether or not a retention item knows it: what an erasure must reach. Lists
   * versions only (`s3:ListBucketVersions`, no read, no KMS).
   */
  async storedRefs(tenant: string, subject: string): Promise<VaultDocumentRef[]> {
    checkTenant(tenant);
    checkSubject(subject);
    const keys = new Set<string>();
    for await (const page of objectVersionPages(this.s3, {
      bucket: this.bucket,
      prefix: `${tenant}/${subject}/`,
    }))
      for (const version of page) keys.add(version.key);
    return [...keys]
      .sort()
      .map(parseVaultKey)
      .filter((ref): ref is VaultDocumentRef => ref !== undefined);
  }

  /**
   * Every key of the vault in key order, after `afterKey` when given, one page per listing call
   * (`pageSize` versions at most): each key once, with its newest write time, even when its
   * versions span two listing calls. Lists versions only (`s3:ListBucketVersions`, no read).
   */
  async *objectPages(afterKey?: string, pageSize?: number): AsyncGenerator<VaultObject[]> {
    let open: { key: string; newest: string; current: boolean } | undefined;
    const done = (o: NonNullable<typeof open>): VaultObject => {
      const ref = parseVaultKey(o.key);
      return { vaultKey: o.key, ...(ref ? { ref } : {}), newest: o.newest, current: o.current };
    };
    for await (const page of objectVersionPages(this.s3, {
      bucket: this.bucket,
      ...(afterKey !== undefined ? { afterKey } : {}),
      ...(pageSize !== undefined ? { pageSize } : {}),
    })) {
      const out: VaultObject[] = [];
      for (const version of page) {
        const at = version.lastModified ?? new Date(0).toISOString();
        if (open && open.key !== version.key) {
          out.push(done(open));
          open = undefined;
        }
        open ??= { key: version.key, newest: at, current: false };
        if (at > open.newest) open.newest = at;
        if (version.latest) open.current = !version.deleteMarker;
      }
      // The last key may go on in the next page: yielded once it is complete.
      if (out.length > 0) yield out;
    }
    if (open) yield [done(open)];
  }

  /**
   * What the current version of a vault object says of itself (HeadObject: metadata only, no
   * content, no KMS); undefined when its current version is gone or a delete marker.
   */
  async inspect(ref: VaultDocumentRef): Promise<VaultObjectFacts | undefined> {
    let head;
    try {
      head = await this.s3.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: vaultKeyOf(ref) }),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined; // gone, or a delete marker is current
      throw error;
    }
    const all = head.Metadata ?? {};
    const metadata = Object.fromEntries(
      Object.entries(all).filter(([name]) => !name.startsWith('po-')),
    );
    const keyId = all[META_KEY_ID];
    const size = Number(all[META_SIZE]);
    const sha256 = all[META_SHA256];
    return {
      metadata,
      ...(keyId !== undefined ? { keyId } : {}),
      ...(head.VersionId ? { versionId: head.VersionId } : {}),
      ...(Number.isInteger(size) && size >= 0 ? { size } : {}),
      ...(sha256 !== undefined ? { sha256 } : {}),
    };
  }

  /**
   * True when the subject key a document was written under is gone (crypto-shredded): no key of
   * its class any more, or another one than `keyId` (read from the key store, no KMS). Without
   * `keyId` only the absence of a key tells.
   */
  async keyDestroyed(ref: VaultDocumentRef, keyId?: string): Promise<boolean> {
    validateVaultRef(ref);
    const current = await this.keys.currentKeyId(ref.tenant, ref.subject, ref.keyClass);
    return current === undefined || (keyId !== undefined && current !== keyId);
  }

  /**
   * The current versions under the subject's prefix, all key classes, with plaintext size and
   * digest when recorded (one ListObjectsV2 page per 1,000 documents, one HeadObject per document;
   * no KMS).
   */
  async listDocuments(tenant: string, subject: string): Promise<ListedDocument[]> {
    checkTenant(tenant);
    checkSubject(subject);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: `${tenant}/${subject}/`,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);

    const documents: (ListedDocument | undefined)[] = new Array(keys.length);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const index = next++;
        documents[index] = await this.describe(keys[index]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.listConcurrency, keys.length) }, worker));
    return documents.filter((d): d is ListedDocument => d !== undefined);
  }

  private async describe(vaultKey: string): Promise<ListedDocument | undefined> {
    let head;
    try {
      head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: vaultKey }));
    } catch (error) {
      if (isNotFound(error)) return undefined; // deleted since the listing
      throw error;
    }
    const size = Number(head.Metadata?.[META_SIZE]);
    const sha256 = head.Metadata?.[META_SHA256];
    if (!Number.isInteger(size) || size < 0)
      throw new DocumentIntegrityError('vault object without size metadata');
    if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256))
      throw new DocumentIntegrityError('vault object with malformed digest metadata');
    const ref = parseVaultKey(vaultKey);
    return {
      vaultKey,
      ...(head.VersionId ? { versionId: head.VersionId } : {}),
      size,
      ...(sha256 !== undefined ? { sha256 } : {}),
      ...(ref ? { ref } : {}),
    };
  }
}
