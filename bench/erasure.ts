import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { localClientOptions } from '../local/client-options';
import type { LocalPipeline } from '../local/environment';
import { createDynamoDocumentClient } from '../shared/aws/dynamodb';
import { DocumentVault } from '../shared/vault/document-vault';
import { SdkCallCounter } from '../test/support/call-counter';
import { inScope } from '../test/support/call-scopes';
import { ERASURE_SIZES, log, round } from './settings';
import { forEachConcurrently } from './workload';

/**
 * Erasure against the number of documents, on the document vault itself: how many calls and how
 * long making a subject's documents unreadable (shredding its keys) and deleting every version
 * takes, for each of `BENCH_ERASURE_SIZES`.
 */
export async function measureErasure(pipeline: LocalPipeline) {
  const { endpoint, region, outputs } = pipeline.environment;
  const options = localClientOptions(endpoint, region);
  const uploadEnvironment = pipeline.runtime.findFunction('document-upload').environment;
  const counter = new SdkCallCounter();
  const s3 = new S3Client(options);
  const kms = new KMSClient(options);
  const dynamo = new DynamoDBClient(options);
  for (const c of [s3, kms, dynamo]) c.middlewareStack.use(counter);
  const vault = new DocumentVault({
    s3,
    kms,
    dynamo: createDynamoDocumentClient(dynamo),
    bucket: outputs.VaultBucketName,
    keyStoreTable: uploadEnvironment.KEY_STORE_TABLE_NAME,
    wrappingKeyId: uploadEnvironment.DOCUMENTS_KEY_ID,
  });
  const results: Record<string, unknown>[] = [];
  for (const n of ERASURE_SIZES) {
    const tenant = 'erasure-bench';
    const subject = randomUUID().replace(/-/g, '').padEnd(64, '0');
    const content = Buffer.alloc(256, 1);
    const t0 = performance.now();
    const ids = Array.from({ length: n }, (_, i) => i);
    await forEachConcurrently(ids, 16, async (i) => {
      await vault.put(
        { tenant, subject, keyClass: i % 2 ? 'contract' : 'case-document', documentId: `d${i}` },
        content,
      );
    });
    const putSeconds = (performance.now() - t0) / 1000;
    counter.reset();
    const t1 = performance.now();
    const shred = await inScope('shred', () => vault.shred(tenant, subject));
    const shredMs = performance.now() - t1;
    const t2 = performance.now();
    const deletion = await inScope('delete', () => vault.deleteAllVersions(tenant, subject));
    const deleteMs = performance.now() - t2;
    const counts = counter.snapshot();
    const flat = (scope: string) =>
      Object.fromEntries(Object.entries(counts[scope] ?? {}).map(([k, c]) => [k, c.attempts]));
    results.push({
      documents: n,
      keysDestroyed: shred.keysDestroyed,
      unreadableCalls: flat('shred'),
      unreadableKmsCalls: Object.entries(counts.shred ?? {}).filter(([k]) => k.startsWith('KMS'))
        .length,
      unreadableMs: round(shredMs, 1),
      deletionCalls: flat('delete'),
      deleteObjectsCalls: deletion.deleteCalls,
      listCalls: deletion.listCalls,
      objectsDeleted: deletion.objectsDeleted,
      deletionMs: round(deleteMs, 1),
      setupPutSeconds: round(putSeconds, 1),
    });
    log(
      `  erasure of ${n} documents: unreadable in ${round(shredMs, 1)} ms (${JSON.stringify(flat('shred'))}), deleted in ${round(deleteMs, 1)} ms (${deletion.deleteCalls} DeleteObjects, ${deletion.listCalls} ListObjectVersions)`,
    );
  }
  for (const c of [s3, kms, dynamo]) c.destroy();
  return { sizes: results };
}
