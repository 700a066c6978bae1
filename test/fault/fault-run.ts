import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  generateWorkload,
  putUploads,
  sendBodies,
  type InvalidKind,
  type WorkloadMessage,
} from '../../bench/workload';
import type { EventType } from '../../events';
import { localClientOptions } from '../../local/client-options';
import type { LocalPipeline } from '../../local/environment';
import { registerClientPlugin } from '../../shared/aws/client-config';
import { startTestPipeline } from '../helpers/local-pipeline';
import { SdkCallCounter } from '../support/call-counter';
import { inScope } from '../support/call-scopes';
import { FaultInjector } from '../support/fault-injector';
import { seededRandom } from '../support/prng';
import { instrumentRuntime, type RuntimeInstrumentation } from '../support/runtime-instrumentation';

/** The size and the faults of a run. */
export interface FaultRunSettings {
  /** Distinct events sent (valid and invalid). */
  readonly events: number;
  /** Probability that an AWS call of a handler fails transiently. */
  readonly faultRate: number;
  /** Share of messages sent twice. */
  readonly duplicateShare: number;
  readonly seed: number;
  /** Visibility timeout of a failed message, in seconds. */
  readonly retryAfterSeconds: number;
  /** Pollers per queue. */
  readonly pollersPerQueue: number;
  /** Instances of each function that may run at once (each one invocation at a time). */
  readonly instancesPerFunction: number;
  /** Relative weights of the valid event types. */
  readonly mix: Readonly<Record<EventType, number>>;
  /** `source` of every event (tells the run's log records from others). */
  readonly source: string;
}

/** Every rejection kind of the wire contract: the suite sends each of them. */
export const ALL_INVALID_KINDS: readonly InvalidKind[] = [
  'invalid-json',
  'unknown-type',
  'invalid-field',
  'wrong-bucket',
  'key-outside-tenant-prefix',
  'key-traversal',
  'upload-missing',
];

/** A run of the suite: the instrumented pipeline, the workload, and what happened so far. */
export interface FaultRun {
  readonly settings: FaultRunSettings;
  readonly pipeline: LocalPipeline;
  readonly outputs: Record<string, string>;
  readonly counter: SdkCallCounter;
  readonly injector: FaultInjector;
  readonly timing: RuntimeInstrumentation;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly dynamo: DynamoDBClient;
  /** Every distinct message of the workload. */
  readonly messages: readonly WorkloadMessage[];
  /** The messages in the order sent, duplicates included. */
  readonly order: readonly WorkloadMessage[];
  readonly duplicates: readonly WorkloadMessage[];
  /** The crashes that fired, described. */
  readonly crashes: string[];
  /** Seconds spent in each step. */
  readonly phases: Record<string, number>;
  /** Where the processing time went (see {@link watchActivity}). */
  readonly activity: Activity;
  readonly startedAt: number;
  /** Undoes the instrumentation. */
  readonly unregister: Array<() => void>;
}

/**
 * How busy the functions were from the first message sent: the time during which no handler ran
 * (the pipeline waited on retry delays, receives or the idle checks), and each function's handler
 * time summed over its runs (its instances together).
 */
export interface Activity {
  running: number;
  idleSince: number;
  idleMs: number;
  handlerMs: Record<string, number>;
}

/** Records the {@link Activity} of a runtime's handler runs; returns the hook's removal. */
function watchActivity(run: Pick<FaultRun, 'pipeline' | 'activity'>): () => void {
  const { activity } = run;
  return run.pipeline.runtime.onInvoke(async ({ fn, event }, next) => {
    const started = Date.now();
    if (activity.running === 0) activity.idleMs += started - activity.idleSince;
    activity.running += 1;
    try {
      return await next(event);
    } finally {
      activity.running -= 1;
      const ended = Date.now();
      activity.handlerMs[fn.key] = (activity.handlerMs[fn.key] ?? 0) + ended - started;
      if (activity.running === 0) activity.idleSince = ended;
    }
  });
}

/** Runs `step`, recording its duration in seconds under `name`. */
async function timed<T>(run: FaultRun, name: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await step();
  } finally {
    run.phases[name] = (Date.now() - started) / 1000;
  }
}

/**
 * Prepares a run: the call counter and the fault injector registered before anything builds a
 * client (so every client of the handlers and pollers carries them), a pipeline whose handler
 * runs are attributed and timed, the workload (every event type, every rejection kind) with its
 * upload objects, and the messages to send twice placed later in the stream.
 */
export async function prepareFaultRun(settings: FaultRunSettings): Promise<FaultRun> {
  const startedAt = Date.now();
  const counter = new SdkCallCounter();
  const injector = new FaultInjector({
    probability: 0,
    seed: settings.seed,
    counter,
    afterCallShare: 0.3,
  });
  const unregister = [registerClientPlugin(counter), registerClientPlugin(injector)];
  const pipeline = await startTestPipeline({
    instancesPerFunction: settings.instancesPerFunction,
    concurrencyPerMapping: settings.pollersPerQueue,
    failedMessageVisibilitySeconds: settings.retryAfterSeconds,
  }).catch((error: unknown) => {
    for (const undo of unregister) undo();
    throw error;
  });
  const timing = instrumentRuntime(pipeline.runtime);
  unregister.push(() => timing.restore());
  const { outputs } = pipeline.environment;
  const options = localClientOptions(pipeline.endpoint);
  const messages = generateWorkload({
    events: settings.events,
    seed: settings.seed,
    uploadBucket: outputs.UploadBucketName,
    mix: settings.mix,
    invalidKinds: ALL_INVALID_KINDS,
    source: settings.source,
  });
  const random = seededRandom(settings.seed + 1);
  const order = [...messages];
  const duplicates = messages.filter(() => random() < settings.duplicateShare);
  for (const d of duplicates) order.splice(Math.floor(random() * order.length), 0, d);
  const run: FaultRun = {
    settings,
    pipeline,
    outputs,
    counter,
    injector,
    timing,
    s3: new S3Client(options),
    sqs: new SQSClient(options),
    dynamo: new DynamoDBClient(options),
    messages,
    order,
    duplicates,
    crashes: [],
    phases: {},
    activity: { running: 0, idleSince: Date.now(), idleMs: 0, handlerMs: {} },
    startedAt,
    unregister,
  };
  unregister.push(watchActivity(run));
  await timed(run, 'put uploads', () => putUploads(run.s3, outputs.UploadBucketName, messages));
  return run;
}

/**
 * Sends the workload to the ingress queue (paced: see {@link sendPaced}) with the faults on:
 * random transient faults at the run's rate, and two crashes in the middle of a batch. Intake
 * dies after its 2nd forwarding call of a batch; document-upload dies when starting the 5th
 * record of a batch (four records done, their log object never written).
 */
export async function sendWorkload(run: FaultRun): Promise<void> {
  const { injector, pipeline, outputs } = run;
  const idempotencyTable =
    pipeline.runtime.findFunction('document-upload').environment.IDEMPOTENCY_TABLE_NAME;
  injector.crashOnce({
    match: (c) => c.scope === 'intake' && c.operation === 'SendMessageBatch',
    nth: 2,
    onCrash: () => run.crashes.push('intake: 2nd SendMessageBatch of a batch'),
  });
  injector.crashOnce({
    match: (c) =>
      c.scope === 'document-upload' &&
      c.operation === 'PutItem' &&
      c.input.TableName === idempotencyTable,
    nth: 5,
    onCrash: () => run.crashes.push('document-upload: before the 5th record of a batch'),
  });
  injector.setProbability(run.settings.faultRate);
  run.counter.reset();
  Object.assign(run.activity, { idleSince: Date.now(), idleMs: 0, handlerMs: {} });
  await timed(run, 'send', () =>
    inScope('harness', () =>
      sendPaced(
        run.sqs,
        outputs.IngressQueueUrl,
        run.order.map((m) => m.body),
      ),
    ),
  );
}

/** Messages sent at a time by {@link sendPaced}. */
const SEND_SLICE = 100;
/** Messages waiting in the ingress queue above which {@link sendPaced} holds the next slice. */
const INGRESS_BACKLOG = 300;

/**
 * Sends `bodies` in order, a slice at a time, each slice once the queue holds fewer than
 * {@link INGRESS_BACKLOG} waiting messages: a producer that keeps pace with the pipeline. moto's
 * SQS goes through every message of a queue on each receive and delete, so thousands of messages
 * waiting at once slow every call of the run (10,000 sent at once: about 0.3 events/s).
 */
async function sendPaced(sqs: SQSClient, queueUrl: string, bodies: readonly string[]) {
  for (let i = 0; i < bodies.length; i += SEND_SLICE) {
    while ((await waitingMessages(sqs, queueUrl)) >= INGRESS_BACKLOG) await sleep(500);
    await sendBodies(sqs, queueUrl, bodies.slice(i, i + SEND_SLICE));
  }
}

async function waitingMessages(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the pipeline has processed everything (retries included), then stops the faults. */
export async function drain(run: FaultRun, timeoutMs: number): Promise<void> {
  await timed(run, 'process', () =>
    inScope('harness', () => run.pipeline.runtime.waitForIdle(timeoutMs)),
  );
  run.injector.setProbability(0);
  const { activity } = run;
  if (activity.running === 0) activity.idleMs += Date.now() - activity.idleSince;
  activity.idleSince = Date.now();
}

/** Stops the pipeline, the clients and the instrumentation. */
export async function stopFaultRun(run: FaultRun | undefined): Promise<void> {
  if (!run) return;
  await run.pipeline.stop();
  for (const client of [run.s3, run.sqs, run.dynamo]) client.destroy();
  for (const undo of run.unregister.reverse()) undo();
}
