import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { ConfigurationError, isConditionalWriteRefused, TransientError } from '../errors';
import { KEY_BYTES, KEY_ID_BYTES, unwrapSubjectKey, wrapSubjectKey } from './envelope';
import { KeyStoreIntegrityError } from './errors';
import { ExpiringCache } from './expiring-cache';

/** Default time a tenant wrapping key or a subject key stays in memory: 5 minutes. */
export const DEFAULT_KEY_CACHE_TTL_MS = 5 * 60 * 1000;
/** Purpose written in the KMS encryption context of every tenant wrapping key. */
export const WRAPPING_KEY_PURPOSE = 'privacy-ops/tenant-wrapping-key';
/** Sort key of the (only) version of a tenant wrapping key. */
export const WRAPPING_KEY_SK = 'WRAPPING#v1';

/** Partition key of a tenant's wrapping key item. */
export const tenantPk = (tenant: string): string => `TENANT#${tenant}`;
/** Partition key of a subject's key items. */
export const subjectPk = (tenant: string, subject: string): string =>
  `TENANT#${tenant}#SUBJECT#${subject}`;
/** Sort key of a subject key item of one key class. */
export const subjectKeySk = (keyClass: string): string => `KEY#${keyClass}`;

/** An unwrapped subject data key and its id. */
export interface SubjectKey {
  /** 16 random bytes, stored with the key and in the header of each document under it. */
  readonly id: Buffer;
  /** The 256-bit AES key. */
  readonly key: Buffer;
}

/** Options of a {@link KeyHierarchy}. */
export interface KeyHierarchyOptions {
  readonly dynamo: DynamoDBDocumentClient;
  readonly kms: KMSClient;
  /** The key store table (pk, sk). */
  readonly table: string;
  /**
   * The KMS key that protects the tenant wrapping keys. Absent for a hierarchy that only shreds:
   * wrapping or unwrapping then fails with a configuration error.
   */
  readonly wrappingKeyId?: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** How long an unwrapped tenant wrapping key stays in memory. @default 5 minutes */
  readonly wrappingKeyTtlMs?: number;
  /**
   * How long an unwrapped subject key stays in memory. This bounds how long another instance
   * can still decrypt after a shred elsewhere. @default 5 minutes
   */
  readonly subjectKeyTtlMs?: number;
  /** The most subject keys kept in memory at once. @default 10000 */
  readonly maxCachedSubjectKeys?: number;
}

interface SubjectKeyItem {
  pk: string;
  sk: string;
  keyId: string;
  wrappedKey: Uint8Array;
  wrappingKey: string;
  createdAt: string;
}

/**
 * The key hierarchy of the vault, as the AWS Encryption SDK's hierarchical keyring builds it:
 *
 * - per tenant, a 256-bit wrapping ("branch") key made once by KMS `GenerateDataKey` under the
 *   documents key (encryption context `{tenant, purpose}`), stored as KMS ciphertext in the key
 *   store, decrypted by KMS `Decrypt` and then cached in memory;
 * - per (tenant, subject, key class), a random 256-bit data key wrapped locally (AES-256-GCM)
 *   under the tenant wrapping key, bound to tenant, subject, class and key id, stored in the key
 *   store and cached in memory unwrapped.
 *
 * Destroying a subject key item makes everything encrypted under it unreadable (crypto-shredding).
 * Creation is conditional, so concurrent creators agree on one key. Concurrent lookups of the
 * same key share one request.
 */
export class KeyHierarchy {
  private readonly now: () => number;
  private readonly wrappingKeys: ExpiringCache<Buffer>;
  private readonly subjectKeys: ExpiringCache<SubjectKey>;
  private readonly pendingWrapping = new Map<string, Promise<Buffer>>();
  private readonly pendingSubject = new Map<string, Promise<SubjectKey | undefined>>();
  /** Bumped for (tenant, subject) on every destroy, so a lookup in flight does not refill the cache. */
  private readonly epochs = new Map<string, number>();

  constructor(private readonly options: KeyHierarchyOptions) {
    this.now = options.now ?? Date.now;
    this.wrappingKeys = new ExpiringCache(
      options.wrappingKeyTtlMs ?? DEFAULT_KEY_CACHE_TTL_MS,
      this.now,
    );
    this.subjectKeys = new ExpiringCache(
      options.subjectKeyTtlMs ?? DEFAULT_KEY_CACHE_TTL_MS,
      this.now,
      options.maxCachedSubjectKeys,
    );
  }

  /** The tenant's wrapping key: from memory, else the key store and KMS `Decrypt`, else created. */
  async wrappingKey(tenant: string): Promise<Buffer> {
    const cached = this.wrappingKeys.get(tenant);
    if (cached) return cached;
    let pending = this.pendingWrapping.get(tenant);
    if (!pending) {
      pending = this.loadWrappingKey(tenant).finally(() => this.pendingWrapping.delete(tenant));
      this.pendingWrapping.set(tenant, pending);
    }
    return pending;
  }

  /**
   * The subject key of (tenant, subject, keyClass): from memory, else from the key store.
   * When none exists: creates one if `create`, else returns undefined (destroyed or never made).
   */
  async subjectKey(
    tenant: string,
    subject: string,
    keyClass: string,
    create: boolean,
  ): Promise<SubjectKey | undefined> {
    const cacheKey = subjectCacheKey(tenant, subject, keyClass);
    const cached = this.subjectKeys.get(cacheKey);
    if (cached) return cached;
    const pendingKey = `${cacheKey}\u0000${create ? 'create' : 'read'}`;
    let pending = this.pendingSubject.get(pendingKey);
    if (!pending) {
      const epochKey = subjectCacheKey(tenant, subject, '');
      const epoch = this.epochs.get(epochKey) ?? 0;
      pending = this.loadSubjectKey(tenant, subject, keyClass, create)
        .then((key) => {
          // A destroy that happened meanwhile wins: do not cache what it may have deleted.
          if (key && (this.epochs.get(epochKey) ?? 0) === epoch)
            this.subjectKeys.set(cacheKey, key);
          return key;
        })
        .finally(() => this.pendingSubject.delete(pendingKey));
      this.pendingSubject.set(pendingKey, pending);
    }
    return pending;
  }

  /** Forgets the cached subject key of one class, so the next lookup reads the key store. */
  forgetSubjectKey(tenant: string, subject: string, keyClass: string): void {
    this.subjectKeys.delete(subjectCacheKey(tenant, subject, keyClass));
  }

  /** Whether the key store holds a subject key for the class (strongly consistent read; no KMS). */
  async hasSubjectKey(tenant: string, subject: string, keyClass: string): Promise<boolean> {
    const item = await this.readSubjectKeyItem(tenant, subject, keyClass);
    return item !== undefined;
  }

  /** The key classes the subject has a key of in the key store (strongly consistent; no KMS). */
  async subjectKeyClasses(tenant: string, subject: string): Promise<string[]> {
    const sks = await this.listSubjectKeySks(subjectPk(tenant, subject));
    return sks.map((sk) => sk.slice(subjectKeySk('').length)).sort();
  }

  /**
   * The id (hex) of the subject's current key of the class, read from the key store without
   * unwrapping it (strongly consistent, no cache, no KMS); undefined when there is none.
   */
  async currentKeyId(
    tenant: string,
    subject: string,
    keyClass: string,
  ): Promise<string | undefined> {
    const item = await this.readSubjectKeyItem(tenant, subject, keyClass);
    return typeof item?.keyId === 'string' ? item.keyId : undefined;
  }

  /**
   * Destroys the subject's keys (every class, or only `keyClasses`) in the key store and in this
   * instance's memory. Cost: one Query page per 1 MB of key items (all classes) plus one
   * DeleteItem per class, whatever the number of documents. Returns the number of keys that
   * existed and were deleted.
   */
  async destroySubjectKeys(
    tenant: string,
    subject: string,
    keyClasses?: readonly string[],
  ): Promise<number> {
    this.evictSubject(tenant, subject, keyClasses);
    const pk = subjectPk(tenant, subject);
    let destroyed = 0;
    const deleteClass = async (sk: string) => {
      const result = await this.options.dynamo.send(
        new DeleteCommand({
          TableName: this.options.table,
          Key: { pk, sk },
          ReturnValues: 'ALL_OLD',
        }),
      );
      if (result.Attributes) destroyed++;
    };
    if (keyClasses) {
      for (const keyClass of new Set(keyClasses)) await deleteClass(subjectKeySk(keyClass));
    } else {
      // Repeat until empty so that a key created concurrently with the first pass goes too.
      for (let pass = 0; pass < 3; pass++) {
        const sks = await this.listSubjectKeySks(pk);
        if (sks.length === 0) break;
        for (const sk of sks) await deleteClass(sk);
      }
    }
    this.evictSubject(tenant, subject, keyClasses);
    return destroyed;
  }

  private evictSubject(tenant: string, subject: string, keyClasses?: readonly string[]): void {
    const epochKey = subjectCacheKey(tenant, subject, '');
    this.epochs.set(epochKey, (this.epochs.get(epochKey) ?? 0) + 1);
    if (keyClasses) {
      for (const keyClass of keyClasses)
        this.subjectKeys.delete(subjectCacheKey(tenant, subject, keyClass));
    } else {
      this.subjectKeys.deleteByPrefix(epochKey);
    }
  }

  private async listSubjectKeySks(pk: string): Promise<string[]> {
    const sks: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.options.dynamo.send(
        new QueryCommand({
          TableName: this.options.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': 'KEY#' },
          ProjectionExpression: 'sk',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) sks.push(String(item.sk));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return sks;
  }

  /**
   * The documents key; throws a {@link ConfigurationError} (`no-wrapping-key`) for a hierarchy
   * built only to shred, before any call that would need the key.
   */
  wrappingKeyId(): string {
    if (this.options.wrappingKeyId === undefined)
      throw new ConfigurationError(
        'no-wrapping-key',
        'this vault may only delete: it was built without the documents key',
      );
    return this.options.wrappingKeyId;
  }

  private async loadWrappingKey(tenant: string): Promise<Buffer> {
    const key = { pk: tenantPk(tenant), sk: WRAPPING_KEY_SK };
    const existing = await this.readItem(key);
    let plaintext: Buffer;
    if (existing) {
      plaintext = await this.decryptWrappingKey(tenant, existing);
    } else {
      const generated = await this.options.kms.send(
        new GenerateDataKeyCommand({
          KeyId: this.wrappingKeyId(),
          KeySpec: 'AES_256',
          EncryptionContext: this.encryptionContext(tenant),
        }),
      );
      if (!generated.Plaintext || !generated.CiphertextBlob)
        throw new TransientError('kms-no-data-key', 'KMS GenerateDataKey returned no key');
      try {
        await this.options.dynamo.send(
          new PutCommand({
            TableName: this.options.table,
            Item: {
              ...key,
              ciphertext: generated.CiphertextBlob,
              kmsKeyId: generated.KeyId ?? this.wrappingKeyId(),
              createdAt: new Date(this.now()).toISOString(),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        plaintext = Buffer.from(generated.Plaintext);
      } catch (error) {
        if (!isConditionalWriteRefused(error)) throw error;
        // Another instance created it first: use theirs.
        const winner = await this.readItem(key);
        if (!winner)
          throw new TransientError('key-store-race', 'Wrapping key vanished while being created');
        plaintext = await this.decryptWrappingKey(tenant, winner);
      }
    }
    if (plaintext.length !== KEY_BYTES)
      throw new KeyStoreIntegrityError('wrapping key of unexpected length');
    this.wrappingKeys.set(tenant, plaintext);
    return plaintext;
  }

  private async decryptWrappingKey(tenant: string, item: Record<string, unknown>): Promise<Buffer> {
    if (!(item.ciphertext instanceof Uint8Array))
      throw new KeyStoreIntegrityError('wrapping key item without ciphertext');
    const decrypted = await this.options.kms.send(
      new DecryptCommand({
        CiphertextBlob: item.ciphertext,
        KeyId: this.wrappingKeyId(),
        EncryptionContext: this.encryptionContext(tenant),
      }),
    );
    if (!decrypted.Plaintext)
      throw new TransientError('kms-no-plaintext', 'KMS Decrypt returned no plaintext');
    return Buffer.from(decrypted.Plaintext);
  }

  private async loadSubjectKey(
    tenant: string,
    subject: string,
    keyClass: string,
    create: boolean,
  ): Promise<SubjectKey | undefined> {
    const existing = await this.readSubjectKeyItem(tenant, subject, keyClass);
    if (existing) return this.unwrap(tenant, subject, keyClass, existing);
    if (!create) return undefined;
    const wrapping = await this.wrappingKey(tenant);
    const id = randomBytes(KEY_ID_BYTES);
    const key = randomBytes(KEY_BYTES);
    const keyId = id.toString('hex');
    const item: SubjectKeyItem = {
      pk: subjectPk(tenant, subject),
      sk: subjectKeySk(keyClass),
      keyId,
      wrappedKey: wrapSubjectKey(wrapping, key, { tenant, subject, keyClass, keyId }),
      wrappingKey: WRAPPING_KEY_SK,
      createdAt: new Date(this.now()).toISOString(),
    };
    try {
      await this.options.dynamo.send(
        new PutCommand({
          TableName: this.options.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { id, key };
    } catch (error) {
      if (!isConditionalWriteRefused(error)) throw error;
      const winner = await this.readSubjectKeyItem(tenant, subject, keyClass);
      if (!winner)
        throw new TransientError('key-store-race', 'Subject key vanished while being created');
      return this.unwrap(tenant, subject, keyClass, winner);
    }
  }

  private async unwrap(
    tenant: string,
    subject: string,
    keyClass: string,
    item: Record<string, unknown>,
  ): Promise<SubjectKey> {
    const keyId = item.keyId;
    if (typeof keyId !== 'string' || !/^[0-9a-f]{32}$/.test(keyId))
      throw new KeyStoreIntegrityError('subject key item without a valid key id');
    if (!(item.wrappedKey instanceof Uint8Array))
      throw new KeyStoreIntegrityError('subject key item without a wrapped key');
    const wrapping = await this.wrappingKey(tenant);
    const key = unwrapSubjectKey(wrapping, item.wrappedKey, { tenant, subject, keyClass, keyId });
    return { id: Buffer.from(keyId, 'hex'), key };
  }

  private readSubjectKeyItem(
    tenant: string,
    subject: string,
    keyClass: string,
  ): Promise<Record<string, unknown> | undefined> {
    return this.readItem({ pk: subjectPk(tenant, subject), sk: subjectKeySk(keyClass) });
  }

  private async readItem(key: {
    pk: string;
    sk: string;
  }): Promise<Record<string, unknown> | undefined> {
    const result = await this.options.dynamo.send(
      new GetCommand({ TableName: this.options.table, Key: key, ConsistentRead: true }),
    );
    return result.Item;
  }

  private encryptionContext(tenant: string): Record<string, string> {
    return { tenant, purpose: WRAPPING_KEY_PURPOSE };
  }
}

function subjectCacheKey(tenant: string, subject: string, keyClass: string): string {
  return `${tenant}\u0000${subject}\u0000${keyClass}`;
}
