import {
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalPipeline } from '../../local/environment';
import { readLogObjects } from '../../shared/processing-log/reader';
import { startTestPipeline } from '../helpers/local-pipeline';
import { localClientOptions } from '../../local/client-options';

describe('walking skeleton: one event end to end through the local endpoint', () => {
  let pipeline: LocalPipeline;
  let s3: S3Client;
  let sqs: SQSClient;

  beforeAll(async () => {
    pipeline = await startTestPipeline();
    const clientOptions = localClientOptions(pipeline.endpoint);
    s3 = new S3Client(clientOptions);
    sqs = new SQSClient(clientOptions);
  });

  afterAll(async () => {
    await pipeline?.stop();
    s3?.destroy();
    sqs?.destroy();
  });

  it('provisions the log bucket versioned and Object-Locked in COMPLIANCE mode from the template', async () => {
    // Prepare
    const bucket = pipeline.environment.outputs.LogBucketName;
    // Act
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    // Assess
    expect(versioning.Status).toBe('Enabled');
    expect(lock.ObjectLockConfiguration?.ObjectLockEnabled).toBe('Enabled');
    expect(lock.ObjectLockConfiguration?.Rule?.DefaultRetention?.Mode).toBe('COMPLIANCE');
    expect(lock.ObjectLockConfiguration?.Rule?.DefaultRetention?.Days).toBe(3653);
  });

  it('gives every stack output a local value and lists what is not reproduced locally', () => {
    // Prepare
    const { template, outputs, skipped } = pipeline.environment;
    // Act
    const skippedTypes = new Set(skipped.map((r) => r.type));
    // Assess
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(template.Outputs ?? {}).sort());
    for (const type of [
      'AWS::IAM::Role',
      'AWS::S3::BucketPolicy',
      'AWS::Glue::Table',
      'AWS::Athena::WorkGroup',
    ]) {
      expect(skippedTypes).toContain(type);
    }
    expect(skipped.every((r) => r.reason.length > 0)).toBe(true);
  });

  it('turns a document.uploaded message on the ingress queue into a processing-log record', async () => {
    // Prepare
    const { outputs } = pipeline.environment;
    const event = {
      specversion: '1.0',
      id: 'skeleton-0001',
      source: '/expense-service',
      type: 'privacy.document.uploaded.v1',
      time: '2026-03-14T09:12:00Z',
      tenantid: 'acme-sas',
      data: {
        subjectId: 'emp-00042',
        documentId: 'receipt-0001',
        category: 'accounting-document',
        upload: { bucket: outputs.UploadBucketName, key: 'acme-sas/incoming/receipt-0001.pdf' },
      },
    };
    // Act
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: outputs.IngressQueueUrl,
        MessageBody: JSON.stringify(event),
      }),
    );
    await pipeline.runtime.waitForIdle(60_000);
    // Assess
    const objects = await readLogObjects(s3, outputs.LogBucketName);
    const keys = objects.map((o) => o.key);
    const records = objects.flatMap((o) => o.records);
    expect(keys.every((k) => /^dt=\d{4}-\d{2}-\d{2}\//.test(k))).toBe(true);
    expect(records.filter((r) => r.eventId === 'skeleton-0001')).toHaveLength(1);
  });
});
