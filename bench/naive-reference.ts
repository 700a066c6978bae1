import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { localClientOptions } from '../local/client-options';
import type { LocalPipeline } from '../local/environment';
import { diffCounts, type CallCounts, type SdkCallCounter } from '../test/support/call-counter';
import { inScope } from '../test/support/call-scopes';
import { phaseResult, type PhaseResult } from './cost-per-event';
import { naiveUploadHandler } from './naive-upload';
import { WARMUP } from './settings';
import { generateWorkload, putUploads, sendBodies } from './workload';

/** The naive handler and the clients and queue it runs with. */
interface NaiveSetup {
  readonly handler: (event: SQSEvent) => Promise<void>;
  /** The handler's poller: its calls are counted. */
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** Clients of the harness (uploads, sending): not counted. */
  readonly harness: { readonly sqs: SQSClient; readonly s3: S3Client };
  readonly uploadBucket: string;
  readonly counter: SdkCallCounter;
}

/** Receives batches of ten from the queue and runs the handler on each until `n` are done. */
async function pollAndHandle(setup: NaiveSetup, n: number, durations: number[]) {
  const { sqs, queueUrl: QueueUrl, handler } = setup;
  let done = 0;
  let invocations = 0;
  while (done < n) {
    // One poller, one function instance, batches of ten: like the pipeline's mappings.
    const page = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const received = page.Messages ?? [];
    if (received.length === 0) continue;
    const event: SQSEvent = {
      Records: received.map(
        (m) =>
          ({
            messageId: m.MessageId!,
            receiptHandle: m.ReceiptHandle!,
            body: m.Body!,
          }) as SQSRecord,
      ),
    };
    const t = performance.now();
    await handler(event);
    durations.push(performance.now() - t);
    invocations += 1;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: received.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    done += received.length;
  }
  return { done, invocations };
}

/** One phase of `n` uploads through the naive handler, priced like a phase of the pipeline. */
async function naivePhase(setup: NaiveSetup, n: number, prefix: string): Promise<PhaseResult> {
  const messages = generateWorkload({
    events: n,
    uploadBucket: setup.uploadBucket,
    mix: { 'privacy.document.uploaded.v1': 1 },
    invalidShare: 0,
    idPrefix: prefix,
    source: '/bench-naive',
  });
  await putUploads(setup.harness.s3, setup.uploadBucket, messages);
  await sendBodies(
    setup.harness.sqs,
    setup.queueUrl,
    messages.map((m) => m.body),
  );
  const before = setup.counter.snapshot();
  const durations: number[] = [];
  const { done, invocations } = await inScope('naive', () => pollAndHandle(setup, n, durations));
  const counts = diffCounts(setup.counter.snapshot(), before);
  // Attribute the naive run's calls to a pseudo-function so phaseResult prices its duration.
  const renamed: CallCounts = { 'naive-upload': counts.naive ?? {} };
  return phaseResult(
    renamed,
    n,
    {
      invocations: { 'naive-upload': invocations },
      deliveredRecords: { 'naive-upload': done },
    },
    { invocations: {}, deliveredRecords: {} },
    { 'naive-upload': durations },
    { 'naive-upload': 512 },
  );
}

/**
 * The naive reference (bench/naive-upload.ts) run like the pipeline's upload function: one
 * poller, one instance, batches of ten, a cold phase then a steady one; priced like a phase.
 */
export async function measureNaive(
  pipeline: LocalPipeline,
  counter: SdkCallCounter,
  events: number,
): Promise<PhaseResult & { cold: PhaseResult }> {
  const { outputs, endpoint, region } = pipeline.environment;
  const options = localClientOptions(endpoint, region);
  const s3 = new S3Client(options);
  const kms = new KMSClient(options);
  const dynamo = new DynamoDBClient(options);
  const sqs = new SQSClient(options);
  for (const c of [s3, kms, dynamo, sqs]) c.middlewareStack.use(counter);
  const harness = { sqs: new SQSClient(options), s3: new S3Client(options) };
  const { QueueUrl } = await harness.sqs.send(
    new CreateQueueCommand({ QueueName: `naive-${randomUUID().slice(0, 8)}` }),
  );
  const handler = naiveUploadHandler({
    s3,
    kms,
    dynamo,
    uploadBucket: outputs.UploadBucketName,
    vaultBucket: outputs.VaultBucketName,
    logBucket: outputs.LogBucketName,
    table: outputs.RetentionTableName,
    keyId: pipeline.runtime.findFunction('document-upload').environment.DOCUMENTS_KEY_ID,
  });
  const setup: NaiveSetup = {
    handler,
    sqs,
    queueUrl: QueueUrl!,
    harness,
    uploadBucket: outputs.UploadBucketName,
    counter,
  };
  const cold = await naivePhase(setup, WARMUP, 'naive-cold');
  const steady = await naivePhase(setup, events, 'naive');
  for (const c of [s3, kms, dynamo, sqs, harness.sqs, harness.s3]) c.destroy();
  return { ...steady, cold };
}
