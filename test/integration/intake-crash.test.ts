import {
  DeleteBucketPolicyCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { exampleEvents } from '../../events/examples';
import type { LocalPipeline } from '../../local/environment';
import type { InvokeHook } from '../../local/runtime';
import { readLogRecords } from '../../shared/processing-log/reader';
import { startTestPipeline } from '../helpers/local-pipeline';
import { localClientOptions } from '../../local/client-options';
import { drainDeadLetters } from '../support/dead-letters';

jest.setTimeout(180_000);

/** How many invocations of the intake crash, and after how many records. */
const mockCrash = { remaining: 0, afterRecords: 3, crashed: 0 };

/**
 * Around the intake's runs: runs the real handler on the first records of a batch (their effects
 * happen), then throws, as a crashed Lambda does.
 */
const crashingIntake: InvokeHook = async ({ fn, event }, run) => {
  const { Records } = event as SQSEvent;
  if (fn.key !== 'intake' || mockCrash.remaining === 0 || Records.length <= mockCrash.afterRecords)
    return run(event);
  mockCrash.remaining -= 1;
  await run({ Records: Records.slice(0, mockCrash.afterRecords) });
  mockCrash.crashed += 1;
  throw new Error('simulated crash in the middle of the batch');
};

interface LogRecord {
  operation: string;
  eventId: string | null;
  reason: string | null;
  actor: string;
}

describe('intake: crash in the middle of a batch, and a failed log write', () => {
  let pipeline: LocalPipeline;
  let s3: S3Client;
  let sqs: SQSClient;
  let outputs: Record<string, string>;

  async function readLog(): Promise<LogRecord[]> {
    return readLogRecords<LogRecord>(s3, outputs.LogBucketName);
  }

  beforeAll(async () => {
    pipeline = await startTestPipeline();
    pipeline.runtime.onInvoke(crashingIntake);
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

  it('loses nothing and doubles nothing when the intake crashes after three of ten records', async () => {
    // Prepare
    const base = exampleEvents(outputs.UploadBucketName)['privacy.document.uploaded.v1'];
    const bodies: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const id = `crash-${i}`;
      const key = i % 3 === 1 ? `elsewhere/${id}.pdf` : `acme-sas/incoming/${id}.pdf`;
      await s3.send(new PutObjectCommand({ Bucket: outputs.UploadBucketName, Key: key, Body: id }));
      const upload = { bucket: outputs.UploadBucketName, key };
      bodies.push(JSON.stringify({ ...base, id, data: { ...base.data, documentId: id, upload } }));
    }
    const invalid = bodies.filter((_, i) => i % 3 === 1).map((b) => JSON.parse(b).id as string);
    const valid = bodies.filter((_, i) => i % 3 !== 1).map((b) => JSON.parse(b).id as string);
    mockCrash.remaining = 1;
    // Act
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: outputs.IngressQueueUrl,
        Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })),
      }),
    );
    await pipeline.runtime.waitForIdle(120_000);
    // Assess
    const records = await readLog();
    const deadLetters = await drainDeadLetters(sqs, outputs.DeadLetterQueueUrl);
    expect(mockCrash.crashed).toBe(1);
    for (const id of valid) {
      const ofEvent = records.filter((r) => r.eventId === id && r.actor === 'document-upload');
      expect(ofEvent.map((r) => r.operation).sort()).toEqual(['received', 'stored']);
    }
    for (const id of invalid) {
      expect(records.filter((r) => r.eventId === id && r.operation === 'rejected')).toHaveLength(1);
      expect(deadLetters.filter((m) => JSON.parse(m.Body!).id === id)).toHaveLength(1);
    }
    expect(deadLetters).toHaveLength(invalid.length);
  });

  it('retries a rejection whose log write failed, logging it once and dead-lettering it once', async () => {
    // Prepare: the log bucket refuses the intake's objects (a Deny the local endpoint enforces)
    const base = exampleEvents(outputs.UploadBucketName)['privacy.document.uploaded.v1'];
    const body = JSON.stringify({
      ...base,
      id: 'flush-fails',
      type: 'privacy.document.uploaded.v0',
    });
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: outputs.LogBucketName,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'TestDenyIntakeLogWrites',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:PutObject',
              Resource: `arn:aws:s3:::${outputs.LogBucketName}/dt=*/intake/*`,
            },
          ],
        }),
      }),
    );
    const failuresBefore = pipeline.runtime.stats.failedItems.intake ?? 0;
    // Act
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: outputs.IngressQueueUrl,
        Entries: [{ Id: '0', MessageBody: body }],
      }),
    );
    const deadline = Date.now() + 30_000;
    while (
      (pipeline.runtime.stats.failedItems.intake ?? 0) === failuresBefore &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 100));
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: outputs.LogBucketName }));
    await pipeline.runtime.waitForIdle(60_000);
    // Assess
    const records = await readLog();
    const deadLetters = await drainDeadLetters(sqs, outputs.DeadLetterQueueUrl);
    expect(pipeline.runtime.stats.failedItems.intake ?? 0).toBeGreaterThan(failuresBefore);
    expect(records.filter((r) => r.eventId === 'flush-fails')).toHaveLength(1);
    expect(deadLetters.map((m) => m.MessageAttributes?.['rejection-reason']?.StringValue)).toEqual([
      'unknown-type',
    ]);
  });
});
