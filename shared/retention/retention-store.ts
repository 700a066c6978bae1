import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { createDynamoDocumentClient } from '../aws/dynamodb';
import { TransientError } from '../errors';
import { epochSeconds } from './schedule';

/**
 * Number of partitions of the `by-expiry` index. An item's shard is a hash of its key, so writes
 * spread evenly whatever the expiry dates; the sweeper queries every shard with
 * `expiresAt <= now`. 16 shards give 16 index partitions (about 16,000 writes/s) and cost the
 * sweeper 16 mostly empty queries per run. Changing it requires re-writing the shard of every
 * scheduled item.
 */
export const EXPIRY_SHARDS = 16;

/** Name of the index the sweeper queries. */
export const EXPIRY_INDEX = 'by-expiry';

/**
 * Name of the sparse index of open data-subject requests (P15): partition `openRequestShard`,
 * present only while a request is open (removed on completion), sort `deadline` (ISO). The sweeper
 * reads it every run to count the requests past their deadline, without scanning the table.
 */
export const OPEN_REQUESTS_INDEX = 'open-requests';

/**
 * Number of partitions of the `open-requests` index. Open requests are few (an operation
 * completes its request within seconds; only deferred or failing ones stay open), so 4 shards
 * are only a guard against a burst of requests writing to one index partition.
 */
export const OPEN_REQUEST_SHARDS = 4;

/** `outcome` of an erasure request deferred by a legal hold: open until the erasure has run. */
export const DEFERRED_BY_LEGAL_HOLD = 'deferred-by-legal-hold';

/** Life-cycle state of a document's retention item. */
export type DocumentState =
  'active' | 'waiting-anchor' | 'restricted' | 'held' | 'expiring' | 'expired' | 'erased';

/**
 * The retention item of one document (`pk = T#<tenant>#S#<subject pseudonym>`,
 * `sk = DOC#<document pseudonym>`). No identifier of a person in clear: the subject is its
 * pseudonym; `documentId` is the controller's document id, needed to address the vault.
 */
export interface DocumentItem {
  pk: string;
  sk: string;
  kind: 'document';
  tenant: string;
  /** Subject pseudonym. */
  subject: string;
  documentId: string;
  /** Document pseudonym (what the log shows). */
  document: string;
  category: string;
  /** Key class of the subject's data key (the category: each category its own key). */
  keyClass: string;
  vaultKey: string;
  versionId?: string;
  size: number;
  sha256: string;
  state: DocumentState;
  /** Kept under an Art. 17(3) ground after an erasure request: stored, not processed. */
  restricted?: boolean;
  restrictionGround?: string;
  restrictedAt?: string;
  /** Under a legal hold: nothing expires. */
  held?: boolean;
  /** To be erased as soon as the hold is released (erasure requested during a hold). */
  erasurePending?: string;
  eventId: string;
  eventSource: string;
  /** Upload event time (ISO). */
  eventTime: string;
  /** Anchor date used for document-date / fiscal-year-end categories (ISO). */
  documentDate: string;
  /** When the document falls due (ISO), once its anchor is known. */
  dueAt?: string;
  /** TTL attribute (epoch seconds): present only when scheduled and not held. */
  expiresAt?: number;
  /** Partition of the `by-expiry` index: present only with `expiresAt`. */
  expiryShard?: string;
  storedAt: string;
  /** Optimistic-concurrency revision. */
  rev: number;
}

/** The record of one subject (`sk = SUBJECT`): closure, erasure tombstones, active holds. */
export interface SubjectRecord {
  pk: string;
  sk: 'SUBJECT';
  kind: 'subject';
  tenant: string;
  subject: string;
  /** Account closure / end of relationship (ISO). */
  closedAt?: string;
  /** Erasure tombstones: category (or `*` for everything) → time of the erasure event (ISO). */
  tombstones?: Record<string, string>;
  /** Ids of the active legal holds; absent when none (so a condition can test its absence). */
  holds?: string[];
  /** Optimistic-concurrency version: every change bumps it. */
  version: number;
}

/** A legal hold (`sk = HOLD#<holdId>`). */
export interface HoldItem {
  pk: string;
  sk: string;
  kind: 'hold';
  holdId: string;
  reason: string;
  placedAt: string;
  releasedAt?: string;
}

/** A data-subject request (`sk = REQ#<requestId>`), tracked from receipt to completion (P15). */
export interface RequestItem {
  pk: string;
  sk: string;
  kind: 'request';
  requestKind: 'erasure' | 'access';
  requestId: string;
  /** Tenant and subject pseudonym (absent on items written before they were recorded). */
  tenant?: string;
  subject?: string;
  receivedAt: string;
  /** receivedAt + one month (GDPR Art. 12(3)). */
  deadline: string;
  completedAt?: string;
  /** Result; {@link DEFERRED_BY_LEGAL_HOLD} while an erasure waits for a hold's release. */
  outcome?: string;
  /** Partition of the `open-requests` index: present only while the request is open. */
  openRequestShard?: string;
}

/** Partition key of a subject's items. */
export function subjectKey(tenant: string, subject: string): string {
  return `T#${tenant}#S#${subject}`;
}

/** The `by-expiry` shard of an item: a hash of its key modulo {@link EXPIRY_SHARDS}. */
export function expiryShardOf(pk: string, sk: string): string {
  const n = createHash('sha256').update(`${pk}|${sk}`).digest()[0] % EXPIRY_SHARDS;
  return `E${n.toString(16).padStart(2, '0')}`;
}

/** Every shard of the `by-expiry` index. */
export function allExpiryShards(): string[] {
  return Array.from({ length: EXPIRY_SHARDS }, (_, n) => `E${n.toString(16).padStart(2, '0')}`);
}

/** The `open-requests` shard of a request: a hash of its key modulo {@link OPEN_REQUEST_SHARDS}. */
export function openRequestShardOf(pk: string, sk: string): string {
  const n = createHash('sha256').update(`${pk}|${sk}`).digest()[0] % OPEN_REQUEST_SHARDS;
  return `R${n.toString(16).padStart(2, '0')}`;
}

/** Every shard of the `open-requests` index. */
export function allOpenRequestShards(): string[] {
  return Array.from(
    { length: OPEN_REQUEST_SHARDS },
    (_, n) => `R${n.toString(16).padStart(2, '0')}`,
  );
}

/**
 * Recomputes a document's derived fields from its facts: `state`, and `expiresAt` +
 * `expiryShard`, which exist only when it is scheduled (`dueAt` known) and not held, so TTL can
 * never fire during a hold.
 */
export function reschedule(item: DocumentItem): DocumentItem {
  const next: DocumentItem = { ...item };
  if (next.state === 'expiring' || next.state === 'expired' || next.state === 'erased') return next;
  next.state = next.held
    ? 'held'
    : next.restricted
      ? 'restricted'
      : next.dueAt
        ? 'active'
        : 'waiting-anchor';
  if (next.dueAt && !next.held) {
    next.expiresAt = epochSeconds(new Date(next.dueAt));
    next.expiryShard = expiryShardOf(next.pk, next.sk);
  } else {
    delete next.expiresAt;
    delete next.expiryShard;
  }
  return next;
}

function isConditionFailure(error: unknown): boolean {
  const name = (error as Error).name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

/** Thrown when an item changed between read and write: retry the operation (transient). */
export class ConcurrentChangeError extends TransientError {
  constructor(what: string, cause?: unknown) {
    super('concurrent-change', `${what} changed concurrently; retry`, { cause });
  }
}

/** Options of a {@link RetentionStore}. */
export interface RetentionStoreOptions {
  readonly table: string;
  /** @default a document client from the environment */
  readonly dynamo?: DynamoDBDocumentClient;
}

/**
 * The retention table: subject records, document items, holds and requests, all keyed by
 * pseudonyms. Every write is keyed and conditional (optimistic concurrency on `version` / `rev`),
 * so an operation can be re-run after a crash and two operations on one subject never silently
 * overwrite each other.
 */
export class RetentionStore {
  readonly table: string;
  private readonly dynamo: DynamoDBDocumentClient;

  constructor(options: RetentionStoreOptions) {
    this.table = options.table;
    this.dynamo = options.dynamo ?? createDynamoDocumentClient();
  }

  /** The subject's record; a fresh (unsaved, version 0) one when it has none. */
  async getSubject(tenant: string, subject: string): Promise<SubjectRecord> {
    const pk = subjectKey(tenant, subject);
    return (
      (await this.getItem<SubjectRecord>(pk, 'SUBJECT')) ?? {
        pk,
        sk: 'SUBJECT',
        kind: 'subject',
        tenant,
        subject,
        version: 0,
      }
    );
  }

  /**
   * Applies `change` to the subject record and saves it, conditional on the version read;
   * retried a few times on a concurrent change. Returns the saved record.
   */
  async updateSubject(
    tenant: string,
    subject: string,
    change: (record: SubjectRecord) => void,
  ): Promise<SubjectRecord> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = await this.getSubject(tenant, subject);
      const next: SubjectRecord = structuredClone(current);
      change(next);
      if (next.holds && next.holds.length === 0) delete next.holds;
      next.version = current.version + 1;
      try {
        await this.dynamo.send(
          new PutCommand({
            TableName: this.table,
            Item: next,
            ConditionExpression:
              current.version === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
            ...(current.version === 0
              ? {}
              : { ExpressionAttributeValues: { ':v': current.version } }),
          }),
        );
        return next;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new ConcurrentChangeError('subject record');
  }

  /** One document item, or undefined. */
  async getDocument(pk: string, sk: string): Promise<DocumentItem | undefined> {
    return this.getItem<DocumentItem>(pk, sk);
  }

  /** One item by key (strongly consistent), or undefined. */
  private async getItem<T>(pk: string, sk: string): Promise<T | undefined> {
    const got = await this.dynamo.send(
      new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true }),
    );
    return got.Item as T | undefined;
  }

  /** Every document item of a subject (consistent read, paginated). */
  async listDocuments(tenant: string, subject: string): Promise<DocumentItem[]> {
    const items: DocumentItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.dynamo.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :doc)',
          ExpressionAttributeValues: { ':pk': subjectKey(tenant, subject), ':doc': 'DOC#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((page.Items ?? []) as DocumentItem[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /**
   * Creates a document item, only if the subject record is still at `subjectVersion` (no
   * closure, erasure or hold slipped in since it was read) and the item does not exist yet.
   * Throws {@link ConcurrentChangeError} otherwise.
   */
  async createDocument(item: DocumentItem, subjectVersion: number): Promise<void> {
    try {
      await this.dynamo.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.table,
                Key: { pk: item.pk, sk: 'SUBJECT' },
                ConditionExpression:
                  subjectVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
                ...(subjectVersion === 0
                  ? {}
                  : { ExpressionAttributeValues: { ':v': subjectVersion } }),
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: item,
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ConcurrentChangeError('subject or document', error);
      throw error;
    }
  }

  /** Saves a changed document item, conditional on the revision it was read at. */
  async saveDocument(item: DocumentItem): Promise<DocumentItem> {
    const next = { ...reschedule(item), rev: item.rev + 1 };
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: this.table,
          Item: next,
          ConditionExpression: 'rev = :rev',
          ExpressionAttributeValues: { ':rev': item.rev },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ConcurrentChangeError('document item', error);
      throw error;
    }
    return next;
  }

  /**
   * Claims a due document for expiry (state `expiring`), only if the subject has no active hold
   * and the item is unchanged. Returns false when a hold or a change got in the way.
   */
  async claimForExpiry(item: DocumentItem): Promise<DocumentItem | false> {
    const next: DocumentItem = { ...item, state: 'expiring', rev: item.rev + 1 };
    try {
      await this.dynamo.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.table,
                Key: { pk: item.pk, sk: 'SUBJECT' },
                ConditionExpression: 'attribute_not_exists(holds)',
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: next,
                ConditionExpression: 'rev = :rev',
                ExpressionAttributeValues: { ':rev': item.rev },
              },
            },
          ],
        }),
      );
      return next;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Puts back an item that TTL removed (from the stream's old image), only if nothing took its
   * place. Returns false when an item exists again under its key.
   */
  async restoreRemoved(item: DocumentItem): Promise<boolean> {
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Deletes a document item (gone from the vault); a no-op when already deleted. */
  async deleteDocument(item: Pick<DocumentItem, 'pk' | 'sk'>): Promise<void> {
    await this.dynamo.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: item.pk, sk: item.sk } }),
    );
  }

  /** Creates or replaces a hold item. */
  async putHold(pk: string, hold: Omit<HoldItem, 'pk' | 'sk' | 'kind'>): Promise<void> {
    await this.dynamo.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk, sk: `HOLD#${hold.holdId}`, kind: 'hold', ...hold },
      }),
    );
  }

  /** One hold item, or undefined. */
  async getHold(pk: string, holdId: string): Promise<HoldItem | undefined> {
    return this.getItem<HoldItem>(pk, `HOLD#${holdId}`);
  }

  /**
   * Records a request at receipt, open (in the `open-requests` index) until completed; keeps the
   * first record when it exists (replay).
   */
  async openRequest(
    pk: string,
    request: Pick<RequestItem, 'requestKind' | 'requestId' | 'receivedAt' | 'deadline'> & {
      tenant: string;
      subject: string;
    },
  ): Promise<RequestItem> {
    const sk = `REQ#${request.requestId}`;
    const item: RequestItem = {
      pk,
      sk,
      kind: 'request',
      ...request,
      openRequestShard: openRequestShardOf(pk, sk),
    };
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return item;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.getItem<RequestItem>(pk, item.sk))!;
    }
  }

  /** One request item, or undefined. */
  async getRequest(pk: string, requestId: string): Promise<RequestItem | undefined> {
    return this.getItem<RequestItem>(pk, `REQ#${requestId}`);
  }

  /**
   * Marks a request completed and takes it out of the `open-requests` index (first completion
   * wins; a replay keeps it).
   */
  async completeRequest(
    request: RequestItem,
    completedAt: string,
    outcome: string,
  ): Promise<RequestItem> {
    if (request.completedAt) return request;
    const next: RequestItem = { ...request, completedAt, outcome };
    delete next.openRequestShard;
    return this.putRequestIf(next, 'attribute_not_exists(completedAt)');
  }

  /**
   * Records why a request stays open (e.g. {@link DEFERRED_BY_LEGAL_HOLD}) without completing it:
   * it stays in the `open-requests` index, so it counts as overdue once past its deadline. A no-op
   * on a completed request.
   */
  async deferRequest(request: RequestItem, outcome: string): Promise<RequestItem> {
    if (request.completedAt || request.outcome === outcome) return request;
    return this.putRequestIf(
      { ...request, outcome },
      'attribute_exists(pk) AND attribute_not_exists(completedAt)',
    );
  }

  /** Writes `next` if `condition` holds; otherwise returns what the table holds (another writer won). */
  private async putRequestIf(next: RequestItem, condition: string): Promise<RequestItem> {
    try {
      await this.dynamo.send(
        new PutCommand({ TableName: this.table, Item: next, ConditionExpression: condition }),
      );
      return next;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.getRequest(next.pk, next.requestId)) ?? next;
    }
  }

  /** One page of open requests of one `open-requests` shard, earliest deadline first. */
  async queryOpenRequests(
    shard: string,
    startKey?: Record<string, unknown>,
  ): Promise<{ items: RequestItem[]; next?: Record<string, unknown> }> {
    const page = await this.dynamo.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: OPEN_REQUESTS_INDEX,
        KeyConditionExpression: 'openRequestShard = :s',
        ExpressionAttributeValues: { ':s': shard },
        ExclusiveStartKey: startKey,
        Limit: 100,
      }),
    );
    return { items: (page.Items ?? []) as RequestItem[], next: page.LastEvaluatedKey };
  }

  /** One page of due documents of one `by-expiry` shard (`expiresAt <= nowSeconds`). */
  async queryDue(
    shard: string,
    nowSeconds: number,
    startKey?: Record<string, unknown>,
  ): Promise<{ items: DocumentItem[]; next?: Record<string, unknown> }> {
    const page = await this.dynamo.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: EXPIRY_INDEX,
        KeyConditionExpression: 'expiryShard = :s AND expiresAt <= :now',
        ExpressionAttributeValues: { ':s': shard, ':now': nowSeconds },
        ExclusiveStartKey: startKey,
        Limit: 100,
      }),
    );
    return { items: (page.Items ?? []) as DocumentItem[], next: page.LastEvaluatedKey };
  }
}
