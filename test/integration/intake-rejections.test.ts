import { drainDeadLetters } from '../support/dead-letters';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { EventProducer, MAX_EVENT_BYTES } from '../../events';
import { exampleEvents } from '../../events/examples';
import type { LocalPipeline } from '../../local/environment';
import { readLogObjects } from '../../shared/processing-log/reader';
import { startTestPipeline } from '../helpers/local-pipeline';
import { localClientOptions } from '../../local/client-options';

jest.setTimeout(180_000);

interface LogRecord {
  operation: string;
  outcome: string;
  tenant: string;
  subject: string | null;
  eventId: string | null;
  eventType: string | null;
  reason: string | null;
  actor: string;
  recordId: string;
}

describe('intake through the local endpoint', () => {
  let pipeline: LocalPipeline;
  let s3: S3Client;
  let sqs: SQSClient;
  let outputs: Record<string, string>;

  /** Every log object's raw (gunzipped) text and its records. */
  async function readLog(): Promise<{ text: string; records: LogRecord[] }> {
    const objects = await readLogObjects<LogRecord>(s3, outputs.LogBucketName);
    return {
      text: objects.map((o) => o.text).join(''),
      records: objects.flatMap((o) => o.records),
    };
  }

  const drainDlq = () => drainDeadLetters(sqs, outputs.DeadLetterQueueUrl);

  /** A valid upload event of its own document, whose file is in the upload bucket. */
  async function uploadEvent(id: string) {
    const base = exampleEvents(outputs.UploadBucketName)['privacy.document.uploaded.v1'];
    const key = `acme-sas/incoming/${id}.pdf`;
    await s3.send(
      new PutObjectCommand({
        Bucket: outputs.UploadBucketName,
        Key: key,
        Body: `content of ${id}`,
      }),
    );
    return {
      ...base,
      id,
      data: { ...base.data, documentId: id, upload: { bucket: outputs.UploadBucketName, key } },
    };
  }

  const send = (body: string) =>
    sqs.send(new SendMessageCommand({ QueueUrl: outputs.IngressQueueUrl, MessageBody: body }));

  beforeAll(async () => {
    pipeline = await startTestPipeline();
    outputs = pipeline.environment.outputs;
    const clientOptions = localClientOptions(pipeline.endpoint);
    s3 = new S3Client(clientOptions);
    sqs = new SQSClient(clientOptions);
  });

  afterAll(async () => {
    await pipeline?.stop();
    s3?.destroy();
    sqs?.destroy();
  });

  describe('each rejection kind', () => {
    const SECRET = 'SECRETSUBJECT';
    let deadLetters: Message[];
    let log: { text: string; records: LogRecord[] };
    const cases: Array<[string, (bucket: string) => string]> = [];
    const eventWith =
      (id: string, change: (e: Record<string, unknown>) => void) => (bucket: string) => {
        const e = structuredClone(
          exampleEvents(bucket)['privacy.document.uploaded.v1'],
        ) as unknown as Record<string, unknown>;
        e.id = id;
        (e.data as Record<string, unknown>).subjectId = `${SECRET}-${id}`;
        change(e);
        return JSON.stringify(e);
      };
    const upload = (e: Record<string, unknown>) =>
      (e.data as { upload: { bucket: string; key: string } }).upload;
    cases.push([
      'oversize',
      eventWith('rej-oversize', (e) => (e.padding = 'x'.repeat(MAX_EVENT_BYTES))),
    ]);
    cases.push(['invalid-json', () => `{"id":"rej-json","data":{"subjectId":"${SECRET}-json"`]);
    cases.push([
      'unknown-type',
      eventWith('rej-type', (e) => (e.type = 'privacy.document.uploaded.v9')),
    ]);
    cases.push([
      'invalid-field:data.documentId',
      eventWith('rej-field', (e) => delete (e.data as Record<string, unknown>).documentId),
    ]);
    cases.push([
      'wrong-bucket',
      eventWith('rej-bucket', (e) => (upload(e).bucket = 'another-bucket')),
    ]);
    cases.push([
      'key-outside-tenant-prefix',
      eventWith('rej-prefix', (e) => (upload(e).key = 'other-tenant/doc.pdf')),
    ]);
    cases.push([
      'key-traversal',
      eventWith('rej-traversal', (e) => (upload(e).key = 'acme-sas/../other-tenant/doc.pdf')),
    ]);

    beforeAll(async () => {
      // Act
      for (const [, body] of cases) await send(body(outputs.UploadBucketName));
      await pipeline.runtime.waitForIdle(90_000);
      deadLetters = await drainDlq();
      log = await readLog();
    });

    it.each(cases.map(([reason]) => reason))(
      '%s: in the dead-letter queue with its reason, and one rejected log record',
      (reason) => {
        // Assess
        const inQueue = deadLetters.filter(
          (m) => m.MessageAttributes?.['rejection-reason']?.StringValue === reason,
        );
        const logged = log.records.filter((r) => r.operation === 'rejected' && r.reason === reason);
        expect(inQueue).toHaveLength(1);
        expect(inQueue[0].MessageAttributes?.['rejected-by']?.StringValue).toBe('intake');
        expect(logged).toHaveLength(1);
        expect(logged[0]).toMatchObject({ outcome: 'rejected', actor: 'intake' });
        if (reason !== 'invalid-json') {
          expect(logged[0].tenant).toBe('acme-sas');
          expect(logged[0].subject).toMatch(/^[0-9a-f]{64}$/);
          expect(logged[0].eventId).toMatch(/^rej-/);
        } else {
          expect(logged[0]).toMatchObject({ tenant: 'unknown', subject: null, eventId: null });
        }
      },
    );

    it('keeps the body unchanged in the dead-letter queue and no subject id in clear in the log', () => {
      // Assess
      expect(deadLetters).toHaveLength(cases.length);
      expect(deadLetters.map((m) => m.Body).sort()).toEqual(
        cases.map(([, body]) => body(outputs.UploadBucketName)).sort(),
      );
      expect(log.text).not.toContain(SECRET);
      expect(log.text).not.toContain('other-tenant');
      expect(pipeline.runtime.stats.invocations['document-upload'] ?? 0).toBe(0);
    });
  });

  it('processes nine of a batch of ten and dead-letters the invalid one with its reason', async () => {
    // Prepare
    const events = await Promise.all(
      Array.from({ length: 10 }, (_, i) => uploadEvent(`batch-${i}`)),
    );
    const bodies: string[] = events.map((e) => JSON.stringify(e));
    bodies[6] = JSON.stringify({ ...events[6], tenantid: 'Not A Tenant' });
    // Act
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: outputs.IngressQueueUrl,
        Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })),
      }),
    );
    await pipeline.runtime.waitForIdle(90_000);
    // Assess
    const deadLetters = await drainDlq();
    const { records } = await readLog();
    const processed = new Set(
      records
        .filter((r) => r.actor === 'document-upload' && r.eventId?.startsWith('batch-'))
        .map((r) => r.eventId),
    );
    expect(deadLetters.map((m) => m.MessageAttributes?.['rejection-reason']?.StringValue)).toEqual([
      'invalid-field:tenantid',
    ]);
    expect(JSON.parse(deadLetters[0].Body!).id).toBe('batch-6');
    expect([...processed].sort()).toEqual(
      events
        .filter((_, i) => i !== 6)
        .map((e) => e.id)
        .sort(),
    );
  });

  it('gives a duplicate delivery one effect and one log record, valid or invalid', async () => {
    // Prepare
    const producer = new EventProducer(outputs.IngressQueueUrl, sqs);
    const valid = await uploadEvent('dup-valid');
    const invalid = JSON.stringify({ ...valid, id: 'dup-invalid', type: 'privacy.unknown.v1' });
    const recordsOf = (records: LogRecord[], id: string) =>
      records.filter((r) => r.eventId === id).map((r) => r.recordId);
    await producer.send(valid);
    await send(invalid);
    await pipeline.runtime.waitForIdle(90_000);
    const first = (await readLog()).records;
    // Act
    await producer.send(valid);
    await send(invalid);
    await send(invalid);
    await pipeline.runtime.waitForIdle(90_000);
    // Assess
    const deadLetters = await drainDlq();
    const { records } = await readLog();
    expect(recordsOf(first, 'dup-valid').length).toBeGreaterThan(0);
    expect(recordsOf(records, 'dup-valid')).toEqual(recordsOf(first, 'dup-valid'));
    expect(recordsOf(records, 'dup-invalid')).toHaveLength(1);
    expect(deadLetters.filter((m) => JSON.parse(m.Body!).id === 'dup-invalid')).toHaveLength(1);
    expect(pipeline.runtime.stats.deliveredRecords['document-upload']).toBeGreaterThanOrEqual(2);
  });
});
