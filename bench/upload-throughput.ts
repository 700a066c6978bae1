import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { performance } from 'node:perf_hooks';
import { localClientOptions } from '../local/client-options';
import { LocalRuntime } from '../local/runtime';
import { inScope } from '../test/support/call-scopes';
import type { BenchContext } from './cost-per-event';
import { round } from './settings';
import { generateWorkload, putUploads, sendBodies, type WorkloadMessage } from './workload';

// Sustained uploads per second through the whole local pipeline (ingress queue → intake → upload
// queue → upload function, every instance the template allows), against the baseline: the calls
// an upload cannot avoid (GET the upload, PUT it elsewhere, one DynamoDB write), made one after
// the other from one thread on the same endpoint.

/** Uploads of the run, spread over tenants × subjects. */
export const THROUGHPUT_UPLOADS = Number(process.env.BENCH_THROUGHPUT_UPLOADS ?? 1000);
const TENANT_COUNT = 10;
const SUBJECTS_PER_TENANT = 100;

/** The figures of the throughput run. */
export interface ThroughputResult {
  uploads: number;
  tenants: number;
  subjectsPerTenant: number;
  /** Seconds from the first send to the end of the last upload invocation. */
  pipelineSeconds: number;
  pipelineUploadsPerSecond: number;
  /** The most upload (and intake) invocations that ran at once. */
  concurrentInvocations: Record<string, number>;
  baselineSeconds: number;
  baselineUploadsPerSecond: number;
  /** Pipeline rate / baseline rate (target ≥ 1.0). */
  ratio: number;
  note: string;
}

/** The run's uploads: 10 tenants × 100 subjects, each with its upload object. */
function throughputWorkload(uploadBucket: string): WorkloadMessage[] {
  return generateWorkload({
    events: THROUGHPUT_UPLOADS,
    uploadBucket,
    mix: { 'privacy.document.uploaded.v1': 1 },
    invalidShare: 0,
    idPrefix: 'tp',
    source: '/bench-throughput',
    tenants: Array.from({ length: TENANT_COUNT }, (_, i) => `tenant-${String(i).padStart(2, '0')}`),
    subjectsPerTenant: SUBJECTS_PER_TENANT,
  });
}

/**
 * The baseline: for each upload, one after the other on one thread, GetObject of the upload,
 * PutObject of its content into another bucket (the vault bucket, under a baseline prefix) and one
 * PutItem; returns the elapsed seconds.
 */
async function baseline(bench: BenchContext, messages: readonly WorkloadMessage[]) {
  const { outputs } = bench.pipeline.environment;
  const options = localClientOptions(bench.pipeline.endpoint);
  const s3 = new S3Client(options);
  const dynamo = new DynamoDBClient(options);
  try {
    await putUploads(s3, outputs.UploadBucketName, messages);
    const started = performance.now();
    for (const m of messages) {
      const object = await s3.send(
        new GetObjectCommand({ Bucket: outputs.UploadBucketName, Key: m.upload!.key }),
      );
      const body = await object.Body!.transformToByteArray();
      await s3.send(
        new PutObjectCommand({
          Bucket: outputs.VaultBucketName,
          Key: `baseline/${m.documentId}`,
          Body: body,
        }),
      );
      await dynamo.send(
        new PutItemCommand({
          TableName: outputs.RetentionTableName,
          Item: { pk: { S: `BASELINE#${m.documentId}` }, sk: { S: 'DOC' } },
        }),
      );
    }
    return (performance.now() - started) / 1000;
  } finally {
    s3.destroy();
    dynamo.destroy();
  }
}

/**
 * Sends the run's uploads through the pipeline and measures the sustained rate (first send to the
 * end of the last upload invocation), then the baseline on the same endpoint (harness calls, not
 * counted in any phase's cost).
 */
export async function measureUploadThroughput(bench: BenchContext): Promise<ThroughputResult> {
  const { outputs } = bench.pipeline.environment;
  // A runtime of its own on the same resources, as deployed: as many instances as the template
  // allows (the cost phases' runtime, one instance per function, is stopped first).
  // A failed batch comes back after 31 s (not the queue's 180 s): longer than an upload's in-flight
  // window (its function timeout, 30 s), as in the fault suite.
  const runtime = new LocalRuntime(bench.pipeline.environment, {
    instancesPerFunction: 'template',
    failedMessageVisibilitySeconds: 31,
  });
  runtime.start();
  try {
    return await measureOn(bench, runtime, outputs);
  } finally {
    await runtime.stop();
  }
}

async function measureOn(
  bench: BenchContext,
  runtime: LocalRuntime,
  outputs: Record<string, string>,
): Promise<ThroughputResult> {
  const messages = throughputWorkload(outputs.UploadBucketName);
  await inScope('harness', () => putUploads(bench.s3, outputs.UploadBucketName, messages));
  let uploadsDone = 0;
  let lastEnd = 0;
  const running: Record<string, number> = {};
  const most: Record<string, number> = {};
  const unhook = runtime.onInvoke(async ({ fn, event }, run) => {
    running[fn.key] = (running[fn.key] ?? 0) + 1;
    most[fn.key] = Math.max(most[fn.key] ?? 0, running[fn.key]);
    try {
      return await run(event);
    } finally {
      running[fn.key] -= 1;
      if (fn.key === 'document-upload') {
        uploadsDone += (event as { Records?: unknown[] }).Records?.length ?? 0;
        lastEnd = performance.now();
      }
    }
  });
  let pipelineSeconds: number;
  try {
    const started = performance.now();
    await inScope('harness', async () => {
      await sendBodies(
        bench.sqs,
        outputs.IngressQueueUrl,
        messages.map((m) => m.body),
        16,
      );
      await runtime.waitForIdle(15 * 60_000);
    });
    pipelineSeconds = (lastEnd - started) / 1000;
  } finally {
    unhook();
  }
  const baselineMessages = throughputWorkload(outputs.UploadBucketName).map((m) => ({
    ...m,
    upload: { ...m.upload!, key: `${m.upload!.key}.baseline` },
  }));
  const baselineSeconds = await inScope('harness', () => baseline(bench, baselineMessages));
  const pipelineRate = uploadsDone / pipelineSeconds;
  const baselineRate = baselineMessages.length / baselineSeconds;
  return {
    uploads: uploadsDone,
    tenants: TENANT_COUNT,
    subjectsPerTenant: SUBJECTS_PER_TENANT,
    pipelineSeconds: round(pipelineSeconds, 2),
    pipelineUploadsPerSecond: round(pipelineRate, 1),
    concurrentInvocations: most,
    baselineSeconds: round(baselineSeconds, 2),
    baselineUploadsPerSecond: round(baselineRate, 1),
    ratio: round(pipelineRate / baselineRate, 2),
    note:
      'pipeline: first send to the end of the last upload invocation, every function at the ' +
      "template's concurrency, on the machine's shared cores; baseline: GetObject + PutObject + " +
      'PutItem per upload, one thread, same endpoint',
  };
}
