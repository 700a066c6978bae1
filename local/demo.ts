import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { LocalPipeline } from './environment';

/** What the demo scenario observed, for its summary. */
export interface DemoSummary {
  readonly sent: number;
  readonly logObjects: number;
  readonly logRecords: Array<Record<string, unknown>>;
  readonly ok: boolean;
}

/** Sends a small scenario through a running local pipeline and reports what the log shows. */
export async function runDemo(
  pipeline: LocalPipeline,
  say: (line: string) => void,
): Promise<DemoSummary> {
  const { outputs, endpoint, region } = pipeline.environment;
  const clientOptions = {
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const s3 = new S3Client({ ...clientOptions, forcePathStyle: true });
  const sqs = new SQSClient(clientOptions);
  try {
    const tenant = 'acme-sas';
    const key = `${tenant}/incoming/receipt-demo-001.pdf`;
    say(`upload  ${key} to ${outputs.UploadBucketName}`);
    await s3.send(
      new PutObjectCommand({ Bucket: outputs.UploadBucketName, Key: key, Body: 'demo receipt' }),
    );
    const event = {
      specversion: '1.0',
      id: randomUUID(),
      source: '/expense-service',
      type: 'privacy.document.uploaded.v1',
      time: new Date().toISOString(),
      tenantid: tenant,
      datacontenttype: 'application/json',
      data: {
        subjectId: 'emp-00042',
        documentId: 'receipt-demo-001',
        category: 'accounting-document',
        upload: { bucket: outputs.UploadBucketName, key },
        documentDate: '2026-03-13',
      },
    };
    say(`send    ${event.type} (${event.id})`);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: outputs.IngressQueueUrl,
        MessageBody: JSON.stringify(event),
      }),
    );
    await pipeline.runtime.waitForIdle(60_000);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: outputs.LogBucketName }));
    const logRecords: Array<Record<string, unknown>> = [];
    for (const object of listed.Contents ?? []) {
      const got = await s3.send(
        new GetObjectCommand({ Bucket: outputs.LogBucketName, Key: object.Key! }),
      );
      const text = gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString('utf8');
      logRecords.push(
        ...text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      );
    }
    return {
      sent: 1,
      logObjects: listed.KeyCount ?? 0,
      logRecords,
      ok: logRecords.some((r) => r.eventId === event.id),
    };
  } finally {
    s3.destroy();
    sqs.destroy();
  }
}
