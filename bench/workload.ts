import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import type { EventType } from '../events';
import { listObjectVersions } from '../shared/aws/object-versions';
import { readLogObjects } from '../shared/processing-log/reader';
import { seededRandom } from '../test/support/prng';

// Workload of the fault-injection suite and the benchmark: events of the wire contract v1 (valid
// ones of every type, and invalid ones of several rejection kinds), their upload objects, and the
// read-back helpers that count effects (log records, dead letters, objects).

/** Tenants of the workload (one pseudonym key derivation each). */
export const TENANTS = ['acme-sas', 'bati-plus', 'forma-pro', 'juris-box', 'agenda-ia'] as const;

/** Categories uploads are spread over (kept, erasable, waiting for closure). */
export const UPLOAD_CATEGORIES = [
  'accounting-document',
  'contract',
  'case-document',
  'payroll-document',
] as const;

/** Invalid message kinds and the `rejection-reason` each must get (a prefix for `invalid-field:`). */
export const INVALID_KINDS = {
  'invalid-json': 'invalid-json',
  'unknown-type': 'unknown-type',
  'invalid-field': 'invalid-field:',
  'wrong-bucket': 'wrong-bucket',
  'key-outside-tenant-prefix': 'key-outside-tenant-prefix',
  'key-traversal': 'key-traversal',
  'upload-missing': 'upload-missing',
} as const;
/** An invalid message kind. */
export type InvalidKind = keyof typeof INVALID_KINDS;

/** One message of the workload. */
export interface WorkloadMessage {
  /** The SQS body sent to the ingress queue. */
  readonly body: string;
  /** Event id and type of a valid event. */
  readonly eventId?: string;
  readonly type?: EventType;
  /** For invalid messages: the kind, and the reason (prefix) the dead letter must carry. */
  readonly invalid?: InvalidKind;
  readonly expectedReason?: string;
  /** The upload object to create before sending (valid uploads only). */
  readonly upload?: { readonly key: string; readonly content: Buffer };
  readonly documentId?: string;
}

/** Options of {@link generateWorkload}. */
export interface WorkloadOptions {
  /** Number of distinct events (valid and invalid). */
  readonly events: number;
  readonly seed?: number;
  /** The stack's upload bucket. */
  readonly uploadBucket: string;
  /** Share of invalid messages. @default 0.02 */
  readonly invalidShare?: number;
  /** Relative weights of the valid types (a type with no weight is not generated). */
  readonly mix: Partial<Record<EventType, number>>;
  /** Invalid kinds to generate. @default all */
  readonly invalidKinds?: readonly InvalidKind[];
  /** `source` of every event. @default /privacy-ops-workload */
  readonly source?: string;
  /** Size of each upload's content in bytes. @default 512 */
  readonly uploadBytes?: number;
  /** Prefix of ids, so that several workloads can share one stack. @default w */
  readonly idPrefix?: string;
}

const TIME = '2026-03-14T09:12:00Z';

/**
 * Generates a deterministic workload: `events` messages, a share of them invalid (cycling through
 * the rejection kinds), the rest valid events drawn from `mix`. Every non-upload event names its
 * own subject, so the events are independent and each effect is known in advance; uploads spread
 * over a few hundred subjects per tenant, each with a unique document id.
 */
export function generateWorkload(options: WorkloadOptions): WorkloadMessage[] {
  const random = seededRandom(options.seed ?? 1);
  const source = options.source ?? '/privacy-ops-workload';
  const prefix = options.idPrefix ?? 'w';
  const invalidShare = options.invalidShare ?? 0.02;
  const kinds = options.invalidKinds ?? (Object.keys(INVALID_KINDS) as InvalidKind[]);
  const types = Object.entries(options.mix).filter(([, w]) => (w ?? 0) > 0) as [
    EventType,
    number,
  ][];
  const totalWeight = types.reduce((n, [, w]) => n + w, 0);
  const pickType = (): EventType => {
    let r = random() * totalWeight;
    for (const [t, w] of types) {
      r -= w;
      if (r < 0) return t;
    }
    return types[types.length - 1][0];
  };
  const bytes = options.uploadBytes ?? 512;
  const invalidEvery = invalidShare > 0 ? Math.round(1 / invalidShare) : 0;
  const messages: WorkloadMessage[] = [];
  let invalidIndex = 0;
  for (let i = 0; i < options.events; i += 1) {
    const tenant = TENANTS[i % TENANTS.length];
    const id = `${prefix}-${String(i).padStart(6, '0')}`;
    const envelope = { specversion: '1.0', id, source, time: TIME, tenantid: tenant };
    const uploadEvent = (documentId: string, key: string, bucket = options.uploadBucket) => ({
      ...envelope,
      type: 'privacy.document.uploaded.v1',
      data: {
        subjectId: `emp-${Math.floor(random() * 300)}`,
        documentId,
        category: UPLOAD_CATEGORIES[Math.floor(random() * UPLOAD_CATEGORIES.length)],
        upload: { bucket, key },
        documentDate: '2026-03-13',
      },
    });
    if (types.length === 0 || (invalidEvery > 0 && i % invalidEvery === invalidEvery - 1)) {
      const kind = kinds[invalidIndex++ % kinds.length];
      const documentId = `doc-${id}`;
      let body: string;
      switch (kind) {
        case 'invalid-json':
          body = `{"specversion":"1.0","id":"${id}",`;
          break;
        case 'unknown-type':
          body = JSON.stringify({ ...envelope, type: 'privacy.document.shredded.v1', data: {} });
          break;
        case 'invalid-field': {
          const { tenantid: _omitted, ...rest } = uploadEvent(
            documentId,
            `${tenant}/in/${documentId}.pdf`,
          );
          body = JSON.stringify(rest);
          break;
        }
        case 'wrong-bucket':
          body = JSON.stringify(
            uploadEvent(documentId, `${tenant}/in/${documentId}.pdf`, 'someone-elses-bucket'),
          );
          break;
        case 'key-outside-tenant-prefix':
          body = JSON.stringify(uploadEvent(documentId, `another-tenant/in/${documentId}.pdf`));
          break;
        case 'key-traversal':
          body = JSON.stringify(uploadEvent(documentId, `${tenant}/../other/${documentId}.pdf`));
          break;
        case 'upload-missing':
          body = JSON.stringify(uploadEvent(documentId, `${tenant}/missing/${documentId}.pdf`));
          break;
      }
      messages.push({ body, invalid: kind, expectedReason: INVALID_KINDS[kind], eventId: id });
      continue;
    }
    const type = pickType();
    const subjectId = `subj-${id}`;
    let event: Record<string, unknown>;
    let upload: WorkloadMessage['upload'];
    let documentId: string | undefined;
    switch (type) {
      case 'privacy.document.uploaded.v1': {
        documentId = `doc-${id}`;
        const key = `${tenant}/incoming/${documentId}.pdf`;
        const content = Buffer.alloc(bytes, `${id}:`);
        const e = uploadEvent(documentId, key);
        if (random() < 0.5)
          (e.data as Record<string, unknown>).sha256 = createHash('sha256')
            .update(content)
            .digest('hex');
        event = e;
        upload = { key, content };
        break;
      }
      case 'privacy.account.closed.v1':
        event = { ...envelope, type, data: { subjectId, closedAt: TIME } };
        break;
      case 'privacy.erasure.requested.v1':
      case 'privacy.access.requested.v1':
        event = {
          ...envelope,
          type,
          data: { subjectId, requestId: `req-${id}`, receivedAt: TIME },
        };
        break;
      case 'privacy.legal-hold.placed.v1':
      case 'privacy.legal-hold.released.v1':
        event = {
          ...envelope,
          type,
          data: { subjectId, holdId: `hold-${id}`, reason: 'litigation' },
        };
        break;
    }
    messages.push({ body: JSON.stringify(event), eventId: id, type, upload, documentId });
  }
  return messages;
}

/** Runs `worker` over `items` with at most `concurrency` in flight. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      await worker(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, run));
}

/** Creates the upload objects of the workload's valid uploads. */
export async function putUploads(
  s3: S3Client,
  bucket: string,
  messages: readonly WorkloadMessage[],
  concurrency = 16,
): Promise<number> {
  const uploads = messages.filter((m) => m.upload);
  await forEachConcurrently(uploads, concurrency, async (m) => {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: m.upload!.key, Body: m.upload!.content }),
    );
  });
  return uploads.length;
}

/** Sends bodies to a queue in SendMessageBatch calls of ten; throws if any entry fails. */
export async function sendBodies(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
  concurrency = 8,
): Promise<void> {
  const chunks: string[][] = [];
  for (let i = 0; i < bodies.length; i += 10) chunks.push(bodies.slice(i, i + 10));
  await forEachConcurrently(chunks, concurrency, async (chunk) => {
    const response = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((body, j) => ({ Id: String(j), MessageBody: body })),
      }),
    );
    if ((response.Failed ?? []).length > 0)
      throw new Error(
        `ingress refused ${response.Failed!.length} messages: ${response.Failed![0].Code}`,
      );
  });
}

/** One processing-log record, as read back (the fields the checks use). */
export interface ReadLogRecord {
  readonly recordId: string;
  readonly operation: string;
  readonly outcome: string;
  readonly eventId: string | null;
  readonly eventSource: string | null;
  readonly eventType: string | null;
  readonly actor: string;
  readonly reason: string | null;
}

/** Reads every current object of the log bucket; also counts object versions. */
export async function readLogRecords(
  s3: S3Client,
  bucket: string,
): Promise<{ records: ReadLogRecord[]; objects: number; versions: number }> {
  const objects = await readLogObjects<ReadLogRecord>(s3, bucket, { concurrency: 16 });
  return {
    records: objects.flatMap((o) => o.records),
    objects: objects.length,
    versions: await countVersions(s3, bucket),
  };
}

async function countVersions(s3: S3Client, bucket: string): Promise<number> {
  return (await listObjectVersions(s3, { bucket })).filter((v) => !v.deleteMarker).length;
}

/** A message of the dead-letter queue: its body and `rejection-reason`. */
export interface DeadLetter {
  readonly body: string;
  readonly reason: string | undefined;
  readonly rejectedBy: string | undefined;
}

/** Receives every message of a queue (hidden for ten minutes, so each is read once). */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  let empty = 0;
  while (empty < 3) {
    const page = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 600,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = page.Messages ?? [];
    empty = messages.length === 0 ? empty + 1 : 0;
    for (const m of messages)
      out.push({
        body: m.Body ?? '',
        reason: m.MessageAttributes?.['rejection-reason']?.StringValue,
        rejectedBy: m.MessageAttributes?.['rejected-by']?.StringValue,
      });
  }
  return out;
}

/**
 * The processing-log operations each valid event must produce exactly once, by type (what the
 * operations log; a type whose operation logs nothing specific has its `received`).
 */
export function expectedOperations(type: EventType): string[] {
  switch (type) {
    case 'privacy.document.uploaded.v1':
      return ['received', 'stored'];
    case 'privacy.account.closed.v1':
      return ['received'];
    case 'privacy.erasure.requested.v1':
    case 'privacy.access.requested.v1':
      return ['received', 'request-completed'];
    case 'privacy.legal-hold.placed.v1':
      return ['hold-placed'];
    case 'privacy.legal-hold.released.v1':
      return ['hold-released'];
  }
}
