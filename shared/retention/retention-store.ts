import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createDynamoDocumentClient } from '../aws/dynamodb';
import { isConditionalWriteRefused, TransientError } from '../errors';
import { laterOf } from './schedule';
import {
  isHoldActive,
  openRequestShardOf,
  reschedule,
  subjectKey,
  type DocumentItem,
  type ExpiryClaim,
  type HoldItem,
  type RequestItem,
  type SubjectRecord,
  type UploadReceipt,
  type UploadMarker,
} from './retention-items';

/** Name of the index the sweeper queries. */
export const EXPIRY_INDEX = 'by-expiry';

/**
 * Name of the sparse index of open data-subject requests (answered within a month): partition
 * `openRequestShard`, present only while a request is open (removed on completion), sort
 * `deadline` (ISO). The sweeper reads it every run to count the requests past their deadline,
 * without scanning the table.
 */
export const OPEN_REQUESTS_INDEX = 'open-requests';

/**
 * Name of the sparse index of documents whose clock waits for the end of a relationship:
 * partition `waitingShard`, present only while no closure has started the clock, sort `eventTime`
 * (since when it waits). The sweeper reads each shard's count and oldest entry every run.
 */
export const WAITING_FOR_CLOSURE_INDEX = 'waiting-for-closure';

/** The documents of one `waiting-for-closure` shard: how many, and since when the oldest waits. */
export interface WaitingShard {
  readonly count: number;
  /** Upload event time (ISO) of the oldest; absent when the shard is empty. */
  readonly oldest?: string;
}

/** Thrown when an item changed between read and write: retry the operation (transient). */
export class ConcurrentChangeError extends TransientError {
  constructor(what: string, cause?: unknown) {
    super('concurrent-change', `${what} changed concurrently; retry`, { cause });
  }
}

/** Sort-key prefix of an operation's effect plan (`PLAN#<id>`, parts `PLAN#<id>#<n>`). */
const PLAN_PREFIX = 'PLAN#';
/** Largest part of a compressed effect plan (an item holds at most 400 KB). */
const PLAN_PART_BYTES = 350_000;

/** The header of a saved effect plan: how many parts it has. */
interface EffectPlanHeader {
  pk: string;
  sk: string;
  kind: 'plan';
  parts: number;
  /** TTL attribute (epoch seconds); no `expiryShard`: the sweeper never sees it. */
  expiresAt: number;
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
        if (!isConditionalWriteRefused(error)) throw error;
      }
    }
    throw new ConcurrentChangeError('subject record');
  }

  /**
   * One document item, or undefined. `consistent: false` reads half a unit and may miss an item
   * written a moment ago: only for a first look that a conditional write then settles.
   */
  async getDocument(
    pk: string,
    sk: string,
    { consistent = true }: { consistent?: boolean } = {},
  ): Promise<DocumentItem | undefined> {
    return this.getItem<DocumentItem>(pk, sk, consistent);
  }

  /** One item by key (strongly consistent unless asked), or undefined. */
  private async getItem<T>(pk: string, sk: string, consistent = true): Promise<T | undefined> {
    const got = await this.dynamo.send(
      new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: consistent }),
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
   * One page of a subject's document items in key order (consistent read): at most `limit` items
   * after the sort key `after` (from the first when absent); `more` when items may follow.
   */
  async documentPage(
    tenant: string,
    subject: string,
    after: string | undefined,
    limit: number,
  ): Promise<{ items: DocumentItem[]; more: boolean }> {
    const pk = subjectKey(tenant, subject);
    const page = await this.dynamo.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :doc)',
        ExpressionAttributeValues: { ':pk': pk, ':doc': 'DOC#' },
        ConsistentRead: true,
        Limit: limit,
        ...(after ? { ExclusiveStartKey: { pk, sk: after } } : {}),
      }),
    );
    return { items: (page.Items ?? []) as DocumentItem[], more: Boolean(page.LastEvaluatedKey) };
  }

  /**
   * Creates a document item (one write unit, no transaction), only if none exists under its key;
   * returns false when one does (a replay, or another event's document). The caller then
   * re-reads the subject record ({@link getSubject}, consistent): if it changed since the item
   * was planned, an erasure, closure or hold may have missed the item, and the caller withdraws
   * it ({@link withdrawDocument}) and retries.
   */
  async createDocument(item: DocumentItem): Promise<boolean> {
    return this.putIfAbsent(item);
  }

  /**
   * Removes a just-created document item, only if no other operation has touched it since
   * (`rev` 0, same event); returns false when one has (the item is then that operation's to
   * handle, and stays).
   */
  async withdrawDocument(item: DocumentItem): Promise<boolean> {
    try {
      await this.dynamo.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: item.pk, sk: item.sk },
          ConditionExpression: 'rev = :zero AND eventKey = :k',
          ExpressionAttributeValues: { ':zero': 0, ':k': item.eventKey },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalWriteRefused(error)) return false;
      throw error;
    }
  }

  /**
   * Points an item's receipt at another log object (its records were logged again there, the
   * first object not holding them), from `at` on, only if it still points at `from`; false
   * otherwise.
   */
  async moveLogObject(
    key: Pick<DocumentItem, 'pk' | 'sk'>,
    from: string,
    to: string,
    at: string,
  ): Promise<boolean> {
    return this.repoint(key, { pointer: 'logObjectKey', at: 'storedAt' }, from, to, at);
  }

  /** Writes the receipt of an upload that was never stored, unless one exists (false then). */
  async putUploadReceipt(receipt: UploadReceipt): Promise<boolean> {
    return this.putIfAbsent(receipt);
  }

  /** The receipt of an upload that was never stored, or undefined. */
  async getUploadReceipt(pk: string, sk: string): Promise<UploadReceipt | undefined> {
    return this.getItem<UploadReceipt>(pk, sk);
  }

  private async putIfAbsent(item: object): Promise<boolean> {
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
      if (isConditionalWriteRefused(error)) return false;
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
      if (isConditionalWriteRefused(error)) throw new ConcurrentChangeError('document item', error);
      throw error;
    }
    return next;
  }

  /**
   * Claims a due document for expiry (state `expiring`, with its {@link ExpiryClaim}), only if the
   * subject has no active hold and the item is unchanged. Returns false when a hold or a change got
   * in the way.
   */
  async claimForExpiry(item: DocumentItem, claim: ExpiryClaim): Promise<DocumentItem | false> {
    const next: DocumentItem = {
      ...item,
      state: 'expiring',
      expiryClaim: claim,
      rev: item.rev + 1,
    };
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
      if (isConditionalWriteRefused(error)) return false;
      throw error;
    }
  }

  /**
   * Claims for expiry a document TTL removed (its old image, state `expiring` with `claim`), put
   * back only if nothing took its place; returns false when an item exists under its key.
   */
  async claimRemoved(item: DocumentItem, claim: ExpiryClaim): Promise<DocumentItem | false> {
    const next: DocumentItem = {
      ...item,
      state: 'expiring',
      expiryClaim: claim,
      rev: item.rev + 1,
    };
    return (await this.putIfAbsent(next)) ? next : false;
  }

  /**
   * Points an expiry claim at another log object (its records are logged again there), only if it
   * still points at `from`; false otherwise.
   */
  async moveExpiryClaim(
    item: DocumentItem,
    from: string,
    to: string,
    at: string,
  ): Promise<boolean> {
    return this.repoint(
      item,
      { pointer: 'expiryClaim.logObjectKey', at: 'expiryClaim.at' },
      from,
      to,
      at,
    );
  }

  /**
   * Sets the log-object pointer at path `paths.pointer` of an item to `to` and the time at
   * `paths.at` to `at`, only if the pointer still says `from`; false otherwise.
   */
  private async repoint(
    key: Pick<DocumentItem, 'pk' | 'sk'>,
    paths: { readonly pointer: string; readonly at: string },
    from: string,
    to: string,
    at: string,
  ): Promise<boolean> {
    // Each path segment is a placeholder name, so no segment can clash with a reserved word.
    const names: Record<string, string> = {};
    const placeholder = (path: string) =>
      path
        .split('.')
        .map((segment) => {
          names[`#${segment}`] = segment;
          return `#${segment}`;
        })
        .join('.');
    const pointer = placeholder(paths.pointer);
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: key.pk, sk: key.sk },
          UpdateExpression: `SET ${pointer} = :to, ${placeholder(paths.at)} = :at`,
          ConditionExpression: `${pointer} = :from`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':from': from, ':to': to, ':at': at },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalWriteRefused(error)) return false;
      throw error;
    }
  }

  /**
   * Saves a marker written before an effect (`pk`, `sk` given) unless one is there: returns the
   * marker that holds, this one or the one an earlier run saved (its decision is kept).
   */
  async saveMarker<T extends { pk: string; sk: string }>(marker: T): Promise<T> {
    if (await this.putIfAbsent(marker)) return marker;
    const existing = await this.getItem<T>(marker.pk, marker.sk);
    if (!existing) throw new ConcurrentChangeError('effect marker');
    return existing;
  }

  /**
   * Points a marker's `logObjectKey` at another log object (its records are logged again there),
   * only if it still names `from`; false otherwise.
   */
  async moveMarker(
    key: { pk: string; sk: string },
    from: string,
    to: string,
    at: string,
  ): Promise<boolean> {
    return this.repoint(key, { pointer: 'logObjectKey', at: 'at' }, from, to, at);
  }

  /** The progress record of a scheduled run (`pk = OPS#<name>`, `sk = PROGRESS`), if any. */
  async getProgress<T extends object>(name: string): Promise<T | undefined> {
    return this.getItem<T>(`OPS#${name}`, 'PROGRESS');
  }

  /** Saves the progress record of a scheduled run, replacing the previous one. */
  async putProgress(name: string, progress: object): Promise<void> {
    await this.dynamo.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...progress, pk: `OPS#${name}`, sk: 'PROGRESS', kind: 'progress' },
      }),
    );
  }

  /**
   * Puts back an item that TTL removed (from the stream's old image), only if nothing took its
   * place. Returns false when an item exists again under its key.
   */
  async restoreRemoved(item: DocumentItem): Promise<boolean> {
    return this.putIfAbsent(item);
  }

  /**
   * Deletes an erased document's item and, when it carries an upload receipt, leaves that receipt
   * (`ERASED#…`, kept for the redelivery window) so a late redelivery of its upload is a replay,
   * not a second `received` record.
   */
  async retireDocument(item: DocumentItem, receipt?: UploadReceipt): Promise<void> {
    if (receipt) await this.putIfAbsent(receipt);
    await this.deleteDocument(item);
  }

  /** Deletes a document item (gone from the vault); a no-op when already deleted. */
  async deleteDocument(item: Pick<DocumentItem, 'pk' | 'sk'>): Promise<void> {
    await this.dynamo.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: item.pk, sk: item.sk } }),
    );
  }

  /**
   * The effect plan saved under `planId` in the subject's partition (see {@link saveEffectPlan}),
   * or undefined when none was saved (completely).
   */
  async effectPlan<T>(pk: string, planId: string): Promise<T | undefined> {
    const header = await this.getItem<EffectPlanHeader>(pk, `${PLAN_PREFIX}${planId}`);
    if (!header) return undefined;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < header.parts; i += 1) {
      const part = await this.getItem<{ data: Uint8Array }>(pk, `${PLAN_PREFIX}${planId}#${i}`);
      if (!part) throw new ConcurrentChangeError('effect plan');
      parts.push(part.data);
    }
    return JSON.parse(gunzipSync(Buffer.concat(parts)).toString('utf8')) as T;
  }

  /**
   * Saves the plan of an operation's effects before any of them is applied: what it will destroy,
   * from which its log records are rebuilt when a crash interrupts it (the effects are gone, the
   * plan is not). Compressed, in parts of at most 350 KB, the header written last: a plan is there
   * whole or not at all. Kept for the redelivery window (TTL). Returns the plan that holds: this
   * one, or the one another run of the same operation saved first.
   */
  async saveEffectPlan<T>(pk: string, planId: string, plan: T, expiresAt: number): Promise<T> {
    const bytes = gzipSync(JSON.stringify(plan));
    const parts = Math.max(1, Math.ceil(bytes.length / PLAN_PART_BYTES));
    for (let i = 0; i < parts; i += 1)
      await this.dynamo.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk,
            sk: `${PLAN_PREFIX}${planId}#${i}`,
            kind: 'plan-part',
            data: bytes.subarray(i * PLAN_PART_BYTES, (i + 1) * PLAN_PART_BYTES),
            expiresAt,
          },
        }),
      );
    const header: EffectPlanHeader = {
      pk,
      sk: `${PLAN_PREFIX}${planId}`,
      kind: 'plan',
      parts,
      expiresAt,
    };
    if (await this.putIfAbsent(header)) return plan;
    return (await this.effectPlan<T>(pk, planId))!;
  }

  /** Records an upload in progress (idempotent: the same upload key, the same item). */
  async putUploadMarker(marker: UploadMarker): Promise<void> {
    await this.dynamo.send(new PutCommand({ TableName: this.table, Item: marker }));
  }

  /** The uploads of a subject still in progress, refused or crashed (consistent read). */
  async listUploadMarkers(tenant: string, subject: string): Promise<UploadMarker[]> {
    const markers: UploadMarker[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.dynamo.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :upload)',
          ExpressionAttributeValues: { ':pk': subjectKey(tenant, subject), ':upload': 'UPLOAD#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      markers.push(...((page.Items ?? []) as UploadMarker[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return markers;
  }

  /** Deletes an upload marker (its upload object is gone); a no-op when already deleted. */
  async deleteUploadMarker(marker: Pick<UploadMarker, 'pk' | 'sk'>): Promise<void> {
    await this.dynamo.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: marker.pk, sk: marker.sk } }),
    );
  }

  /**
   * Records a hold's placement or release at its event time (the latest of each is kept) and the
   * subject's active holds with it, in one transaction conditional on both items as read (retried
   * a few times on a concurrent change). Returns the hold and the subject record as saved.
   */
  async recordHoldEvent(
    tenant: string,
    subject: string,
    event: { holdId: string; kind: 'placed' | 'released'; time: string },
  ): Promise<{ hold: HoldItem; record: SubjectRecord }> {
    const pk = subjectKey(tenant, subject);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = await this.getSubject(tenant, subject);
      const before = await this.getHold(pk, event.holdId);
      const hold: HoldItem = {
        pk,
        sk: `HOLD#${event.holdId}`,
        kind: 'hold',
        holdId: event.holdId,
        ...before,
        rev: (before?.rev ?? 0) + 1,
      };
      if (event.kind === 'placed') {
        hold.placedAt = laterOf(before?.placedAt, event.time);
      } else hold.releasedAt = laterOf(before?.releasedAt, event.time);
      const record: SubjectRecord = structuredClone(current);
      const others = (record.holds ?? []).filter((h) => h !== event.holdId);
      record.holds = isHoldActive(hold) ? [...others, event.holdId].sort() : others;
      if (record.holds.length === 0) delete record.holds;
      record.version = current.version + 1;
      const holdCondition = !before
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : before.rev === undefined
          ? { ConditionExpression: 'attribute_not_exists(rev)' }
          : { ConditionExpression: 'rev = :r', ExpressionAttributeValues: { ':r': before.rev } };
      try {
        await this.dynamo.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: record,
                  ConditionExpression:
                    current.version === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
                  ...(current.version === 0
                    ? {}
                    : { ExpressionAttributeValues: { ':v': current.version } }),
                },
              },
              { Put: { TableName: this.table, Item: hold, ...holdCondition } },
            ],
          }),
        );
        return { hold, record };
      } catch (error) {
        if (!isConditionalWriteRefused(error)) throw error;
      }
    }
    throw new ConcurrentChangeError('hold or subject record');
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
      if (!isConditionalWriteRefused(error)) throw error;
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
      if (!isConditionalWriteRefused(error)) throw error;
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

  /** How many documents of one `waiting-for-closure` shard wait, and the oldest's event time. */
  async waitingShard(shard: string): Promise<WaitingShard> {
    const query = {
      TableName: this.table,
      IndexName: WAITING_FOR_CLOSURE_INDEX,
      KeyConditionExpression: 'waitingShard = :s',
      ExpressionAttributeValues: { ':s': shard },
    };
    const first = await this.dynamo.send(
      new QueryCommand({ ...query, ScanIndexForward: true, Limit: 1 }),
    );
    const oldest = first.Items?.[0]?.eventTime as string | undefined;
    if (!oldest) return { count: 0 };
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.dynamo.send(
        new QueryCommand({ ...query, Select: 'COUNT', ExclusiveStartKey: start }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return { count, oldest };
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
