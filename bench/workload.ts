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
  /** Tenants the events cycle through. @default {@link TENANTS} */
  readonly tenants?: readonly string[];
  /** Subjects per tenant uploads are spread over. @default 300 */
  readonly subjectsPerTenant?: number;
}

const TIME = '2026-03-14T09:12:00Z';

/**
 * Generates a deterministic workload: `events` messages, a share of them invalid (cycling through
 * the rejection kinds), the rest valid events drawn from `mix`. Every non-upload event names its
 * own subject, so the events are independent and each effect is known in advance; uploads spread
 * over a few hundred subjects per tenant, each with a unique document id.
 */
export function generateWorkload(options: WorkloadOptions): WorkloadMessage[] {
  return new WorkloadGenerator(options).messages();
}

/** The envelope fields of one workload event. */
interface Envelope {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly time: string;
  readonly tenantid: string;
}

/** One generation of a workload (see {@link generateWorkload}); its draws are seeded. */
class WorkloadGenerator {
  private readonly random: () => number;
  private readonly types: Array<[EventType, number]>;
  private readonly kinds: readonly InvalidKind[];
  private invalidIndex = 0;

  constructor(private readonly options: WorkloadOptions) {
    this.random = seededRandom(options.seed ?? 1);
    this.kinds = options.invalidKinds ?? (Object.keys(INVALID_KINDS) as InvalidKind[]);
    this.types = Object.entries(options.mix).filter(([, w]) => (w ?? 0) > 0) as Array<
      [EventType, number]
    >;
  }

  messages(): WorkloadMessage[] {
    const invalidShare = this.options.invalidShare ?? 0.02;
    const invalidEvery = invalidShare > 0 ? Math.round(1 / invalidShare) : 0;
    const prefix = this.options.idPrefix ?? 'w';
    const messages: WorkloadMessage[] = [];
    for (let i = 0; i < this.options.events; i += 1) {
      const envelope: Envelope = {
        specversion: '1.0',
        id: `${prefix}-${String(i).padStart(6, '0')}`,
        source: this.options.source ?? '/privacy-ops-workload',
        time: TIME,
        tenantid: (this.options.tenants ?? TENANTS)[i % (this.options.tenants ?? TENANTS).length],
      };
      const invalid =
        this.types.length === 0 || (invalidEvery > 0 && i % invalidEvery === invalidEvery - 1);
      messages.push(invalid ? this.invalidMessage(envelope) : this.validMessage(envelope));
    }
    return messages;
  }

  /** A valid type drawn by weight. */
  private pickType(): EventType {
    const total = this.types.reduce((n, [, w]) => n + w, 0);
    let r = this.random() * total;
    for (const [t, w] of this.types) {
      r -= w;
      if (r < 0) return t;
    }
    return this.types[this.types.length - 1][0];
  }

  private uploadEvent(envelope: Envelope, documentId: string, key: string, bucket?: string) {
    return {
      ...envelope,
      type: 'privacy.document.uploaded.v1',
      data: {
        subjectId: `emp-${Math.floor(this.random() * (this.options.subjectsPerTenant ?? 300))}`,
        documentId,
        category: UPLOAD_CATEGORIES[Math.floor(this.random() * UPLOAD_CATEGORIES.length)],
        upload: { bucket: bucket ?? this.options.uploadBucket, key },
        documentDate: '2026-03-13',
      } as Record<string, unknown>,
    };
  }

  /** The next rejection kind, cycling, as a message that must be rejected with its reason. */
  private invalidMessage(envelope: Envelope): WorkloadMessage {
    const kind = this.kinds[this.invalidIndex++ % this.kinds.length];
    const { id, tenantid: tenant } = envelope;
    const documentId = `doc-${id}`;
    const upload = (key: string, bucket?: string) =>
      JSON.stringify(this.uploadEvent(envelope, documentId, key, bucket));
    const bodies: Record<InvalidKind, () => string> = {
      'invalid-json': () => `{"specversion":"1.0","id":"${id}",`,
      'unknown-type': () =>
        JSON.stringify({ ...envelope, type: 'privacy.document.shredded.v1', data: {} }),
      'invalid-field': () => {
        const event = this.uploadEvent(envelope, documentId, `${tenant}/in/${documentId}.pdf`);
        const { tenantid: _omitted, ...rest } = event;
        return JSON.stringify(rest);
      },
      'wrong-bucket': () => upload(`${tenant}/in/${documentId}.pdf`, 'someone-elses-bucket'),
      'key-outside-tenant-prefix': () => upload(`another-tenant/in/${documentId}.pdf`),
      'key-traversal': () => upload(`${tenant}/../other/${documentId}.pdf`),
      'upload-missing': () => upload(`${tenant}/missing/${documentId}.pdf`),
    };
    return {
      body: bodies[kind](),
      invalid: kind,
      expectedReason: INVALID_KINDS[kind],
      eventId: id,
    };
  }

  /** A valid event of a drawn type; an upload comes with the object to put first. */
  private validMessage(envelope: Envelope): WorkloadMessage {
    const type = this.pickType();
    const { id, tenantid: tenant } = envelope;
    const subjectId = `subj-${id}`;
    const of = (data: Record<string, unknown>) => ({ ...envelope, type, data });
    switch (type) {
      case 'privacy.document.uploaded.v1': {
        const documentId = `doc-${id}`;
        const key = `${tenant}/incoming/${documentId}.pdf`;
        const content = Buffer.alloc(this.options.uploadBytes ?? 512, `${id}:`);
        const event = this.uploadEvent(envelope, documentId, key);
        if (this.random() < 0.5)
          event.data.sha256 = createHash('sha256').update(content).digest('hex');
        const body = JSON.stringify(event);
        return { body, eventId: id, type, upload: { key, content }, documentId };
      }
      case 'privacy.account.closed.v1':
        return { body: JSON.stringify(of({ subjectId, closedAt: TIME })), eventId: id, type };
      case 'privacy.account.reopened.v1':
        return { body: JSON.stringify(of({ subjectId, reopenedAt: TIME })), eventId: id, type };
      case 'privacy.erasure.requested.v1':
      case 'privacy.access.requested.v1': {
        const data = { subjectId, requestId: `req-${id}`, receivedAt: TIME };
        return { body: JSON.stringify(of(data)), eventId: id, type };
      }
      case 'privacy.legal-hold.placed.v1':
      case 'privacy.legal-hold.released.v1': {
        const data = { subjectId, holdId: `hold-${id}`, reason: 'litigation' };
        return { body: JSON.stringify(of(data)), eventId: id, type };
      }
    }
  }
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
    case 'privacy.account.reopened.v1':
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
