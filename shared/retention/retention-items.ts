import { createHash } from 'node:crypto';
import type { VaultDocumentRef } from '../vault/vault-ref';
import { epochSeconds } from './schedule';

/*
 * The items of the retention table, keyed by pseudonyms: subject records, document items, holds
 * and requests, with the keys and index shards derived from them.
 */

/**
 * Number of partitions of the `by-expiry` index. An item's shard is a hash of its key, so writes
 * spread evenly whatever the expiry dates; the sweeper queries every shard with
 * `expiresAt <= now`. 16 shards give 16 index partitions (about 16,000 writes/s) and cost the
 * sweeper 16 mostly empty queries per run. Changing it requires re-writing the shard of every
 * scheduled item.
 */
export const EXPIRY_SHARDS = 16;

/**
 * Number of partitions of the `open-requests` index. Open requests are few (an operation
 * completes its request within seconds; only deferred or failing ones stay open), so 4 shards
 * are only a guard against a burst of requests writing to one index partition.
 */
export const OPEN_REQUEST_SHARDS = 4;

/**
 * Number of partitions of the `waiting-for-closure` index: written once per document whose clock
 * waits for a closure and once more when the closure starts it, so 4 shards spread an onboarding's
 * burst of uploads; the sweeper reads each shard's oldest entry and count every run.
 */
export const WAITING_SHARDS = 4;

/** `outcome` of an erasure request deferred by a legal hold: open until the erasure has run. */
export const DEFERRED_BY_LEGAL_HOLD = 'deferred-by-legal-hold';

/** Life-cycle state of a document's retention item. */
export type DocumentState =
  'active' | 'waiting-anchor' | 'restricted' | 'held' | 'expiring' | 'expired' | 'erased';

/**
 * Whether a document in this state still exists (stored in the vault, under retention): every
 * state but those of its removal (`expiring`: claimed by an expiry; `expired`; `erased`).
 */
export function isLive(state: DocumentState): boolean {
  return state !== 'expiring' && state !== 'expired' && state !== 'erased';
}

/**
 * What an item written once per event remembers of that event, so that the write itself makes
 * the event idempotent (no separate idempotency record): the event's key and payload digests, and
 * the processing-log object its records were queued for.
 */
export interface EventReceipt {
  /** Digest of the event's idempotency key (`eventKeyOf`, shared/batch). */
  eventKey: string;
  /** Digest of the rest of the event (`payloadHashOf`): a duplicate has the same. */
  payloadHash: string;
  /** Key of the processing-log object the event's records were queued for. */
  logObjectKey: string;
  /** When the item was written (ISO): until the writer's timeout, its log object may be in flight. */
  storedAt: string;
}

/**
 * What an upload that was never stored leaves (`sk = ERASED#<document pseudonym>`): its receipt,
 * so a redelivery is a replay. Removed by TTL after the redelivery window; no `expiryShard`, so the
 * sweeper never sees it, and the expiry function ignores it.
 */
export interface UploadReceipt extends EventReceipt {
  pk: string;
  sk: string;
  kind: 'upload-receipt';
  /** TTL attribute (epoch seconds). */
  expiresAt: number;
}

/**
 * The retention item of one document (`pk = T#<tenant>#S#<subject pseudonym>`,
 * `sk = DOC#<document pseudonym>`). No identifier of a person in clear: the subject is its
 * pseudonym; `documentId` is the controller's document id, needed to address the vault. Its
 * creation is conditional on its absence and carries the upload event's receipt.
 */
export interface DocumentItem extends EventReceipt {
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
  /** Version of its vault object (its key is `vaultKeyOf(vaultRefOf(item))`, not stored). */
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
  /**
   * Partition of the `waiting-for-closure` index (sorted by `eventTime`: since when it waits):
   * present only while the document's clock waits for the end of a relationship.
   */
  waitingShard?: string;
  /**
   * The last change of its due date by a policy change (`privacy-ops retention apply`): the run,
   * the due dates before and after. Lets an interrupted run log what it changed before it stopped.
   */
  rescheduled?: { run: string; from: string | null; to: string; note?: string };
  /** Its expiry, once claimed (state `expiring`): see {@link ExpiryClaim}. */
  expiryClaim?: ExpiryClaim;
  /** Optimistic-concurrency revision. */
  rev: number;
}

/**
 * What an expiry (sweeper or TTL stream) writes on a document before destroying anything: the log
 * object its records go to, when, and whether it destroys the subject key of the class with it
 * (decided once, before: a re-run after a crash logs the same effects, whatever it finds left).
 */
export interface ExpiryClaim {
  /** Key of the processing-log object the expiry's records were queued for. */
  logObjectKey: string;
  /** When the claim was written (ISO). */
  at: string;
  /** True when this expiry shreds the class key (no live document of the class is left). */
  shredKey: boolean;
  /** With `shredKey`: the time its destruction mark on the subject record holds until (ISO). */
  destroyingUntil?: string;
}

/** The record of one subject (`sk = SUBJECT`): closure, erasure tombstones, active holds. */
export interface SubjectRecord {
  pk: string;
  sk: 'SUBJECT';
  kind: 'subject';
  tenant: string;
  subject: string;
  /** The latest account closure / end of relationship (ISO). */
  closedAt?: string;
  /** The latest reopening: a relationship started again (ISO); see {@link relationshipEndOf}. */
  reopenedAt?: string;
  /** Erasure tombstones: category (or `*` for everything) → time of the erasure event (ISO). */
  tombstones?: Record<string, string>;
  /** The erasure request of each tombstone (same keys): what a later, older upload is erased for. */
  tombstoneRequests?: Record<string, string>;
  /**
   * Destructions in progress (an erasure, an expiry that shreds a class key): category or key
   * class (or `*`) → until when (ISO), set before the destroyer lists what it destroys, cleared
   * once destroyed. An upload of a covered category waits (see {@link keyDestroying}), so no
   * document is stored under a key or a prefix being destroyed.
   */
  destroying?: Record<string, string>;
  /** Ids of the active legal holds; absent when none (so a condition can test its absence). */
  holds?: string[];
  /** Optimistic-concurrency version: every change bumps it. */
  version: number;
}

/**
 * The latest erasure covering a category of the subject (its own tombstone or `*`): the erasure
 * event's time and, when recorded, its request id.
 */
export function tombstoneOf(
  record: SubjectRecord,
  category: string,
): { time: string; requestId?: string } | undefined {
  const keys = [category, '*'].filter((k) => record.tombstones?.[k] !== undefined);
  if (keys.length === 0) return undefined;
  const key = keys.reduce((a, b) => (record.tombstones![b] > record.tombstones![a] ? b : a));
  return { time: record.tombstones![key], requestId: record.tombstoneRequests?.[key] };
}

/**
 * Whether a destruction covers the subject's `category` (its own mark or `*`) at `now`: a mark
 * not past its time (a later one is a dead run's, which its retry sets again before destroying).
 */
export function keyDestroying(
  record: Pick<SubjectRecord, 'destroying'>,
  category: string,
  now: Date,
): boolean {
  return [category, '*'].some((k) => {
    const until = record.destroying?.[k];
    return until !== undefined && now.toISOString() < until;
  });
}

/** Sets the mark of a destruction of `keys` until `until` (see {@link SubjectRecord.destroying}). */
export function markDestroying(
  record: SubjectRecord,
  keys: readonly string[],
  until: string,
): void {
  const destroying = { ...(record.destroying ?? {}) };
  for (const k of keys) destroying[k] = until;
  record.destroying = destroying;
}

/** Clears the marks of `keys` this destruction set (those still `until`). */
export function clearDestroying(
  record: SubjectRecord,
  keys: readonly string[],
  until: string,
): void {
  for (const k of keys) if (record.destroying?.[k] === until) delete record.destroying[k];
  if (record.destroying && Object.keys(record.destroying).length === 0) delete record.destroying;
}

/**
 * A legal hold (`sk = HOLD#<hold pseudonym>`): the event times of its latest placement and latest
 * release, whatever order they arrived in (see {@link isHoldActive}). Its id is kept as its keyed
 * pseudonym, and its free-text reason not at all (the controller has it; the pipeline never needs it).
 */
export interface HoldItem {
  pk: string;
  sk: string;
  kind: 'hold';
  /** Keyed pseudonym of the producer's hold id. */
  holdId: string;
  /** Event time of the latest placement (ISO); absent while only a release has arrived. */
  placedAt?: string;
  /** Event time of the latest release (ISO). */
  releasedAt?: string;
  /** Optimistic-concurrency revision (absent on items written before it existed). */
  rev?: number;
}

/**
 * Whether a hold is in force: placed, and placed later than it was released (compared by event
 * time, like erasure tombstones), so a release delivered before its placement leaves no hold.
 */
export function isHoldActive(hold: Pick<HoldItem, 'placedAt' | 'releasedAt'>): boolean {
  return hold.placedAt !== undefined && (!hold.releasedAt || hold.placedAt > hold.releasedAt);
}

/**
 * A data-subject request (`sk = REQ#<request pseudonym>`: the keyed pseudonym of its id), tracked from receipt to completion, so that one
 * not answered within its month shows.
 */
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

/** How long the receipt of an upload no longer stored is kept: the redelivery window. */
export const UPLOAD_RECEIPT_SECONDS = 14 * 24 * 3600;

/**
 * The receipt left for an upload whose document is not (or no longer) stored: under
 * `ERASED#<document pseudonym>`, removed by TTL after {@link UPLOAD_RECEIPT_SECONDS}.
 */
export function uploadReceiptOf(
  pk: string,
  document: string,
  receipt: EventReceipt,
  now: Date,
): UploadReceipt {
  return {
    pk,
    sk: `ERASED#${document}`,
    kind: 'upload-receipt',
    eventKey: receipt.eventKey,
    payloadHash: receipt.payloadHash,
    logObjectKey: receipt.logObjectKey,
    storedAt: receipt.storedAt,
    expiresAt: epochSeconds(new Date(now.getTime() + UPLOAD_RECEIPT_SECONDS * 1000)),
  };
}

/**
 * An upload in progress (`sk = UPLOAD#<hash of the upload key>`): written before the upload
 * function stores anything, deleted once the upload object is removed. One left behind marks an
 * upload that was refused or crashed (its object may still be in the upload bucket, its document
 * in the vault without a retention item), so that an erasure of the subject finds both.
 */
export interface UploadMarker {
  pk: string;
  sk: string;
  kind: 'upload';
  tenant: string;
  /** Subject pseudonym. */
  subject: string;
  documentId: string;
  /** Document pseudonym (what the log shows). */
  document: string;
  category: string;
  /** The key in the upload bucket (under `<tenant>/`). */
  uploadKey: string;
  /** The upload event's time (ISO): an erasure covers the uploads older than it. */
  eventTime: string;
}

/** The marker key of an upload: a hash of the upload key, so two uploads never share one. */
export function uploadMarkerKey(uploadKey: string): string {
  return `UPLOAD#${createHash('sha256').update(uploadKey).digest('hex').slice(0, 32)}`;
}

/**
 * The end of the subject's current relationship: its latest closure, unless a later reopening
 * started a new relationship (then undefined: what is stored now waits for the next closure).
 * Closures and reopenings are compared by their business time, whatever order they arrived in.
 */
export function relationshipEndOf(
  record: Pick<SubjectRecord, 'closedAt' | 'reopenedAt'>,
): string | undefined {
  const { closedAt, reopenedAt } = record;
  return closedAt && (!reopenedAt || closedAt > reopenedAt) ? closedAt : undefined;
}

/** Partition key of a subject's items. */
export function subjectKey(tenant: string, subject: string): string {
  return `T#${tenant}#S#${subject}`;
}

/** Shard `n` of an index whose shards are named `prefix` + two hex digits. */
function shardName(prefix: string, n: number): string {
  return `${prefix}${n.toString(16).padStart(2, '0')}`;
}

/** The shard of an item among `count`: a hash of its key, so writes spread evenly. */
function shardOf(prefix: string, count: number, pk: string, sk: string): string {
  return shardName(prefix, createHash('sha256').update(`${pk}|${sk}`).digest()[0] % count);
}

/** Every shard of an index of `count` shards named `prefix` + two hex digits. */
function allShards(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, n) => shardName(prefix, n));
}

/** The `by-expiry` shard of an item (one of {@link EXPIRY_SHARDS}). */
export const expiryShardOf = (pk: string, sk: string) => shardOf('E', EXPIRY_SHARDS, pk, sk);

/** Every shard of the `by-expiry` index. */
export const allExpiryShards = () => allShards('E', EXPIRY_SHARDS);

/** The `open-requests` shard of a request (one of {@link OPEN_REQUEST_SHARDS}). */
export const openRequestShardOf = (pk: string, sk: string) =>
  shardOf('R', OPEN_REQUEST_SHARDS, pk, sk);

/** Every shard of the `open-requests` index. */
export const allOpenRequestShards = () => allShards('R', OPEN_REQUEST_SHARDS);

/** The `waiting-for-closure` shard of a document (one of {@link WAITING_SHARDS}). */
export const waitingShardOf = (pk: string, sk: string) => shardOf('W', WAITING_SHARDS, pk, sk);

/** Every shard of the `waiting-for-closure` index. */
export const allWaitingShards = () => allShards('W', WAITING_SHARDS);

/**
 * Recomputes a document's derived fields from its facts: `state`; `expiresAt` + `expiryShard`,
 * which exist only when it is scheduled (`dueAt` known) and not held, so TTL can never fire during
 * a hold; and `waitingShard`, which exists only while its clock waits for the end
 * of a relationship (no `dueAt`, held or restricted included: nothing has started its clock).
 */
export function reschedule(item: DocumentItem): DocumentItem {
  const next: DocumentItem = { ...item };
  if (!isLive(next.state)) return next;
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
  if (next.dueAt) delete next.waitingShard;
  else next.waitingShard = waitingShardOf(next.pk, next.sk);
  return next;
}

/** The vault reference of a document item. */
export function vaultRefOf(item: DocumentItem): VaultDocumentRef {
  return {
    tenant: item.tenant,
    subject: item.subject,
    keyClass: item.keyClass,
    documentId: item.documentId,
  };
}
