import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { performance } from 'node:perf_hooks';
import { localClientOptions } from '../local/client-options';
import type { LocalPipeline } from '../local/environment';
import { PipelineDriver } from '../local/pipeline-driver';
import { registerClientPlugin } from '../shared/aws/client-config';
import { createDynamoDocumentClient } from '../shared/aws/dynamodb';
import { subjectKey, type DocumentItem } from '../shared/retention/retention-items';
import { DocumentVault } from '../shared/vault/document-vault';
import { SdkCallCounter } from '../test/support/call-counter';
import { inCallScope } from '../test/support/call-scopes';
import { log, round } from './settings';
import { forEachConcurrently } from './workload';

/** Documents per subject (`BENCH_LARGE_SIZES`, default 1,10000,100000). */
const SIZES = (process.env.BENCH_LARGE_SIZES ?? '1,10000,100000').split(',').map(Number);
/** Which requests to run (`BENCH_LARGE_KINDS`, default erasure,access). */
const KINDS = (process.env.BENCH_LARGE_KINDS ?? 'erasure,access')
  .split(',')
  .filter((k): k is 'erasure' | 'access' => k === 'erasure' || k === 'access');
/**
 * Above this many documents the erasure's vault objects are not seeded (items only, each naming
 * no version: the erasure lists each document's versions instead). @default every size
 */
const REAL_OBJECTS_UP_TO = Number(process.env.BENCH_LARGE_OBJECTS_UP_TO ?? Infinity);
/** Seeding puts in flight at once. */
const SEED_CONCURRENCY = 48;

/**
 * Erasure and access export of one subject with 1, 10,000 and 100,000 documents through the
 * functions (their own queue, their page budget): invocations, the longest single invocation
 * against the 30 s timeout (the handler's own run, timed around it), the sum of the handler runs,
 * the wall time from the request's send to the pipeline idle (pollers included), and the SDK calls
 * of those functions. Seeded fast, not through the upload function: items by BatchWriteItem,
 * vault objects (erasure only: opaque bytes, erasure never reads them; the first document stored
 * through the vault, so the subject has a key to shred) by parallel PutObject, each item naming
 * its version. For the export only the items are seeded (it then finds each document not found:
 * one vault read each, no export object).
 */
export async function measureLargeSubjects(pipeline: LocalPipeline) {
  const counter = new SdkCallCounter();
  const unregister = registerClientPlugin(counter);
  const { runtime } = pipeline;
  const { endpoint, region, outputs } = pipeline.environment;
  const driver = new PipelineDriver(pipeline, { source: '/bench-large', tenant: 'acme-sas' });
  const options = localClientOptions(endpoint, region);
  const s3 = new S3Client(options);
  const sqs = new SQSClient(options);
  const dynamoClient = new DynamoDBClient(options);
  const kms = new KMSClient(options);
  const dynamo = createDynamoDocumentClient(dynamoClient);
  const table = outputs.RetentionTableName;
  const uploadEnvironment = runtime.findFunction('document-upload').environment;
  const vault = new DocumentVault({
    s3,
    kms,
    dynamo,
    bucket: outputs.VaultBucketName,
    keyStoreTable: uploadEnvironment.KEY_STORE_TABLE_NAME!,
    wrappingKeyId: uploadEnvironment.DOCUMENTS_KEY_ID!,
  });
  /** The first document of a subject: stored through the vault, which makes the subject a key. */
  const firstRef = (subject: string) => ({
    tenant: 'acme-sas',
    subject,
    keyClass: 'case-document',
    documentId: 'd000000',
  });
  const runs: Record<string, number[]> = {};
  const restore = runtime.onInvoke(({ fn, event }, run) =>
    inCallScope({ name: fn.key, calls: new Map() }, async () => {
      const started = performance.now();
      try {
        return await run(event);
      } finally {
        (runs[fn.key] ??= []).push(performance.now() - started);
      }
    }),
  );
  runtime.start();
  const queues = runtime.findFunction('intake').environment;
  const results: Record<string, unknown>[] = [];
  try {
    for (const n of SIZES) {
      for (const kind of KINDS) {
        const who = `bench-${kind}-${n}-${Date.now()}`;
        const subject = await driver.pseudonym(who);
        const t0 = performance.now();
        const objects = kind === 'erasure' && n <= REAL_OBJECTS_UP_TO;
        await seed(n, subject, objects);
        const seedSeconds = (performance.now() - t0) / 1000;
        const fnKey = kind === 'erasure' ? 'erasure-request' : 'access-request';
        runs[fnKey] = [];
        counter.reset();
        const started = performance.now();
        const type = `privacy.${kind}.requested.v1`;
        const event = driver.event(type, {
          subjectId: who,
          requestId: `req-${kind}-${n}`,
          receivedAt: new Date().toISOString(),
        });
        await sqs.send(
          new SendMessageCommand({
            QueueUrl:
              queues[kind === 'erasure' ? 'ERASURE_REQUEST_QUEUE_URL' : 'ACCESS_REQUEST_QUEUE_URL'],
            MessageBody: JSON.stringify(event),
          }),
        );
        await runtime.waitForIdle(3_600_000);
        const wallSeconds = (performance.now() - started) / 1000;
        const handler = runs[fnKey] ?? [];
        const calls: Record<string, number> = {};
        for (const [scope, byKey] of Object.entries(counter.snapshot()))
          if (scope === fnKey)
            for (const [key, c] of Object.entries(byKey))
              calls[key] = (calls[key] ?? 0) + c.attempts;
        const result = {
          kind,
          documents: n,
          vaultObjects: objects ? 'real' : 'items only (no vault object)',
          invocations: handler.length,
          maxInvocationSeconds: round(Math.max(0, ...handler) / 1000, 2),
          timeoutSeconds: runtime.findFunction(fnKey).timeoutSeconds,
          handlerSecondsTotal: round(handler.reduce((a, b) => a + b, 0) / 1000, 1),
          wallSeconds: round(wallSeconds, 1),
          seedSeconds: round(seedSeconds, 1),
          calls,
        };
        results.push(result);
        log(
          `  ${kind} of ${n} documents: ${result.invocations} invocations, longest ${result.maxInvocationSeconds} s of ${result.timeoutSeconds} s, handlers ${result.handlerSecondsTotal} s, wall ${result.wallSeconds} s (${result.vaultObjects})`,
        );
      }
    }
  } finally {
    restore();
    unregister();
    await runtime.stop();
    s3.destroy();
    sqs.destroy();
    dynamoClient.destroy();
    kms.destroy();
    driver.destroy();
  }
  return { sizes: results };

  /** `n` document items of one subject (BatchWriteItem) and, when asked, their vault objects. */
  async function seed(n: number, subject: string, objects: boolean): Promise<void> {
    const pk = subjectKey('acme-sas', subject);
    const now = new Date().toISOString();
    const items: DocumentItem[] = Array.from({ length: n }, (_, i) => {
      const documentId = `d${String(i).padStart(6, '0')}`;
      return {
        pk,
        sk: `DOC#p${documentId}`,
        kind: 'document',
        tenant: 'acme-sas',
        subject,
        documentId,
        document: `p${documentId}`,
        category: 'case-document',
        keyClass: 'case-document',
        size: 64,
        sha256: '0'.repeat(64),
        state: 'active',
        eventTime: now,
        documentDate: now.slice(0, 10),
        storedAt: now,
        rev: 0,
      } as DocumentItem;
    });
    // The vault objects first: each item records the version its upload stored.
    if (objects)
      await forEachConcurrently(items, SEED_CONCURRENCY, async (item) => {
        if (item.documentId === firstRef(subject).documentId) {
          item.versionId = (await vault.put(firstRef(subject), Buffer.alloc(64, 1))).versionId;
          return;
        }
        const put = await s3.send(
          new PutObjectCommand({
            Bucket: outputs.VaultBucketName,
            Key: `acme-sas/${subject}/${item.keyClass}/${item.documentId}`,
            Body: Buffer.alloc(64, 1),
          }),
        );
        item.versionId = put.VersionId;
      });
    const batches: DocumentItem[][] = [];
    for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
    await forEachConcurrently(batches, 16, async (batch) => {
      let requests = batch.map((Item) => ({ PutRequest: { Item } }));
      while (requests.length > 0) {
        const out = await dynamo.send(
          new BatchWriteCommand({ RequestItems: { [table]: requests } }),
        );
        requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
      }
    });
  }
}
