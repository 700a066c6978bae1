import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Message } from '@aws-sdk/client-sqs';
import type { Pluggable } from '@smithy/types';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { LocalPipeline } from '../../local/environment';
import { PipelineDriver } from '../../local/pipeline-driver';
import { registerClientPlugin } from '../../shared/aws/client-config';
import { readLogRecords } from '../../shared/processing-log/reader';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { vaultRefOf } from '../../shared/retention/retention-items';
import { KeyHierarchy } from '../../shared/vault/key-hierarchy';
import { drainDeadLetters } from '../support/dead-letters';
import { encryptWholeDocument } from '../support/whole-document-writer';
import { startTestPipeline } from '../helpers/local-pipeline';
import { localClientOptions } from '../../local/client-options';

/** The upload limit this file deploys with (the default is far larger). */
const LIMIT = 1024 * 1024;

/**
 * Records the body stream of every GetObject on `bucket()`: whether the code that asked for it
 * ever read a byte of it (`readableDidRead`) tells a refusal made on the response's
 * Content-Length from one made after reading the content.
 */
function bodiesOf(bucket: () => string): { plugin: Pluggable<object, object>; bodies: Readable[] } {
  const bodies: Readable[] = [];
  const record =
    (
      next: (args: { input: { Bucket?: string } }) => Promise<{ output: { Body?: Readable } }>,
      context: { commandName?: string },
    ) =>
    async (args: { input: { Bucket?: string } }) => {
      const result = await next(args);
      if (context.commandName === 'GetObjectCommand' && args.input.Bucket === bucket())
        bodies.push(result.output.Body!);
      return result;
    };
  const plugin: Pluggable<object, object> = {
    applyToStack: (stack) =>
      stack.add(record as never, {
        step: 'initialize',
        name: 'uploadBodyRecorder',
        override: true,
      }),
  };
  return { plugin, bodies };
}

describe('document size: refused over the limit before reading, streamed below it', () => {
  let pipeline: LocalPipeline;
  let driver: PipelineDriver;
  let unregister: () => void;
  let uploadBucket = '';
  const recorder = bodiesOf(() => uploadBucket);
  const reasonOf = (m: Message) => m.MessageAttributes?.['rejection-reason']?.StringValue;

  beforeAll(async () => {
    unregister = registerClientPlugin(recorder.plugin);
    pipeline = await startTestPipeline({
      variables: { 'document-upload': { MAX_DOCUMENT_BYTES: String(LIMIT) } },
    });
    uploadBucket = pipeline.environment.outputs.UploadBucketName;
    driver = new PipelineDriver(pipeline, { source: '/size-test', tenant: 'acme-sas' });
  });
  afterAll(async () => {
    unregister?.();
    driver?.destroy();
    await pipeline?.stop();
  });

  /** Replaces the upload object of `event` with `content` (binary). */
  const putUpload = async (event: Record<string, unknown>, content: Uint8Array) => {
    const { upload } = event.data as { upload: { bucket: string; key: string } };
    await driver.s3.send(
      new PutObjectCommand({ Bucket: upload.bucket, Key: upload.key, Body: content }),
    );
  };

  /** The exported file of `documentId` for an access request of `subjectId`. */
  const exported = async (subjectId: string, documentId: string, requestId: string) => {
    await driver.send(
      driver.event('privacy.access.requested.v1', {
        subjectId,
        requestId,
        receivedAt: new Date().toISOString(),
      }),
    );
    const bucket = pipeline.environment.outputs.ExportBucketName;
    const subject = await driver.pseudonym(subjectId);
    const listed = await driver.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `acme-sas/${subject}/access-` }),
    );
    const manifestKey = listed
      .Contents!.map((o) => o.Key!)
      .find((k) => k.endsWith('manifest.json'))!;
    const read = async (key: string) =>
      Buffer.from(
        await (
          await driver.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        ).Body!.transformToByteArray(),
      );
    const manifest = JSON.parse((await read(manifestKey)).toString('utf8'));
    const entry = manifest.documents.find(
      (d: { documentId: string }) => d.documentId === documentId,
    );
    return { entry, content: entry?.file ? await read(entry.file) : undefined };
  };

  it('refuses an upload over the limit as document-too-large without reading its body', async () => {
    // Prepare: an upload one byte over the limit
    const who = 'emp-size-1';
    const event = await driver.upload(who, 'too-large-1', 'contract');
    await putUpload(event, randomBytes(LIMIT + 1));
    const before = recorder.bodies.length;
    // Act
    await driver.send(event);
    // Assess: dead-lettered with its reason, one rejected record, nothing stored, body never read
    const dead = await drainDeadLetters(
      driver.sqs,
      pipeline.environment.outputs.DeadLetterQueueUrl,
    );
    expect(dead.map(reasonOf)).toEqual(['document-too-large']);
    const logs = await readLogRecords<ProcessingLogRecord>(
      driver.s3,
      pipeline.environment.outputs.LogBucketName,
    );
    const rejected = logs.filter(
      (r) => r.operation === 'rejected' && r.reason === 'document-too-large',
    );
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ outcome: 'rejected', actor: 'document-upload' });
    expect(Object.keys(await driver.items(who))).toEqual([]);
    const bodies = recorder.bodies.slice(before);
    expect(bodies.length).toBeGreaterThanOrEqual(1);
    expect(bodies.map((b) => b.readableDidRead)).toEqual(bodies.map(() => false));
  });

  it('stores a document at the limit and exports it byte for byte (several frames)', async () => {
    // Prepare: exactly the limit, binary, several 64 KiB frames
    const who = 'emp-size-2';
    const content = randomBytes(LIMIT);
    const event = await driver.upload(who, 'at-limit-1', 'contract');
    await putUpload(event, content);
    // Act
    await driver.send(event);
    const { entry, content: got } = await exported(who, 'at-limit-1', 'req-size-2');
    // Assess
    expect(
      await drainDeadLetters(driver.sqs, pipeline.environment.outputs.DeadLetterQueueUrl),
    ).toEqual([]);
    const sha256 = createHash('sha256').update(content).digest('hex');
    expect(entry).toMatchObject({ size: LIMIT, sha256 });
    expect(got?.equals(content)).toBe(true);
    const items = await driver.items(who);
    const vaultObject = await driver.s3.send(
      new GetObjectCommand({
        Bucket: pipeline.environment.outputs.VaultBucketName,
        Key: `acme-sas/${items['at-limit-1'].subject}/contract/at-limit-1`,
      }),
    );
    const stored = Buffer.from(await vaultObject.Body!.transformToByteArray());
    expect(stored[4]).toBe(2); // the framed format
    expect(stored.includes(content.subarray(0, 64))).toBe(false);
  });

  it('still exports a document the whole-object writer stored before the framed format', async () => {
    // Prepare: a stored document whose vault object is replaced by the old writer's object
    const who = 'emp-size-3';
    const content = Buffer.from('an invoice written by the whole-object vault, before frames');
    const event = await driver.upload(who, 'old-format-1', 'contract');
    await putUpload(event, content);
    await driver.send(event);
    const item = (await driver.items(who))['old-format-1'];
    const ref = vaultRefOf(item);
    const env = pipeline.runtime.findFunction('access-request').environment;
    const local = localClientOptions(pipeline.environment.endpoint, pipeline.environment.region);
    const keys = new KeyHierarchy({
      dynamo: DynamoDBDocumentClient.from(new DynamoDBClient(local)),
      kms: new KMSClient(local),
      table: env.KEY_STORE_TABLE_NAME,
      wrappingKeyId: env.DOCUMENTS_KEY_ID,
    });
    const subjectKey = await keys.subjectKey(ref.tenant, ref.subject, ref.keyClass, false);
    const old = encryptWholeDocument(subjectKey!.key, subjectKey!.id, ref, content);
    await driver.s3.send(
      new PutObjectCommand({
        Bucket: pipeline.environment.outputs.VaultBucketName,
        Key: `${ref.tenant}/${ref.subject}/${ref.keyClass}/${ref.documentId}`,
        Body: old,
        Metadata: {
          category: 'contract',
          'po-format': '1',
          'po-size': String(content.length),
          'po-sha256': createHash('sha256').update(content).digest('hex'),
        },
      }),
    );
    // Act
    const { content: got } = await exported(who, 'old-format-1', 'req-size-3');
    // Assess
    expect(got?.equals(content)).toBe(true);
  });
});
