/**
 * `npm run bench`: measures the pipeline on the local endpoint (moto) and writes
 * bench/results.json and a table (issue 7 item 2). Nothing here is a test: every figure is
 * measured in this run, and each target is printed with PASS or FAIL and its number.
 *
 * Environment: BENCH_EVENTS (steady-state events per type, default 200), BENCH_WARMUP (events
 * of the cold phase per type, default 20), BENCH_ERASURE_SIZES (default 1,100,10000),
 * BENCH_INTAKE_EVENTS (default 1000), BENCH_INIT_RUNS (default 5).
 */
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
import { build } from 'esbuild';
import { BUNDLE_SETTINGS } from '../infra/constructs/pipeline-function';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EventType } from '../events';
import { startLocalPipeline, type LocalPipeline } from '../local/environment';
import {
  type CallCount,
  type CallCounts,
  diffCounts,
  SdkCallCounter,
  totalsByOperation,
} from '../test/support/call-counter';
import { type CallInfo, inScope } from '../test/support/call-scopes';
import { quantile } from '../test/support/quantiles';
import {
  instrumentRuntime,
  type RuntimeInstrumentation,
} from '../test/support/runtime-instrumentation';
import { OPERATION_OF_EVENT } from '../shared/operations/routes';
import { registerClientPlugin } from '../shared/aws/client-config';
import { createDynamoDocumentClient } from '../shared/aws/dynamodb';
import { naiveUploadHandler } from './naive-upload';
import { forEachConcurrently, generateWorkload, putUploads, sendBodies } from './workload';

const ROOT = path.resolve(__dirname, '..');
/** Bundles are built under .local (ignored by git, eslint and prettier). */
const OUT = path.join(ROOT, '.local', 'bench');
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const STEADY = env('BENCH_EVENTS', 200);
const WARMUP = env('BENCH_WARMUP', 20);
const INTAKE_EVENTS = env('BENCH_INTAKE_EVENTS', 1000);
const INIT_RUNS = env('BENCH_INIT_RUNS', 5);
const ERASURE_SIZES = (process.env.BENCH_ERASURE_SIZES ?? '1,100,10000').split(',').map(Number);
/** Assumed round trip of one AWS API call from Lambda in-region, for the modelled duration. */
const AWS_CALL_MS = 10;

interface Prices {
  source: Record<string, string>;
  date: string;
  verified: string;
  lambda: { gbSecondArm64: number; requestsPerMillion: number };
  sqs: { requestsPerMillion: number };
  kms: { requestsPerMillion: number };
  dynamodb: { writeRequestUnitsPerMillion: number; readRequestUnitsPerMillion: number };
  s3: {
    putCopyPostListPerThousand: number;
    getSelectPerThousand: number;
    deletePerThousand: number;
  };
}
const prices = JSON.parse(
  readFileSync(path.join(__dirname, 'prices.eu-west-3.json'), 'utf8'),
) as Prices;

const log = (line = '') => process.stdout.write(`${line}\n`);
const round = (n: number, digits = 3) => Number(n.toFixed(digits));

// ---------------------------------------------------------------------------------------------
// Pricing of counted calls

const S3_TIER1 =
  /^(PutObject|CopyObject|PostObject|List\w*|CreateMultipartUpload|UploadPart|CompleteMultipartUpload|PutObject\w+|PutBucket\w*)$/;
const S3_FREE = /^(DeleteObject|DeleteObjects|AbortMultipartUpload)$/;

/** Billable units per event of one set of counts. */
interface Units {
  sqsRequests: number;
  kmsRequests: number;
  wru: number;
  rru: number;
  s3Tier1: number;
  s3Tier2: number;
  s3Free: number;
  lambdaRequests: number;
  lambdaGbSeconds: number;
}

function unitsOf(totals: Record<string, CallCount>, events: number): Units {
  const u: Units = {
    sqsRequests: 0,
    kmsRequests: 0,
    wru: 0,
    rru: 0,
    s3Tier1: 0,
    s3Tier2: 0,
    s3Free: 0,
    lambdaRequests: 0,
    lambdaGbSeconds: 0,
  };
  for (const [key, c] of Object.entries(totals)) {
    const [serviceOp] = key.split(' ');
    const [service, operation] = serviceOp.split('.');
    if (service === 'SQS') {
      // Empty long polls are the pollers' idle cost (per hour, not per event).
      const billable = operation === 'ReceiveMessage' ? c.attempts - c.emptyReceives : c.attempts;
      if (operation !== 'GetQueueAttributes') u.sqsRequests += billable;
    } else if (service === 'KMS') u.kmsRequests += c.attempts;
    else if (service === 'DynamoDB') {
      u.wru += c.writeUnits;
      u.rru += c.readUnits;
    } else if (service === 'S3') {
      if (S3_FREE.test(operation)) u.s3Free += c.attempts;
      else if (S3_TIER1.test(operation)) u.s3Tier1 += c.attempts;
      else u.s3Tier2 += c.attempts;
    }
    // DynamoDBStreams reads by the event source mapping are not billed.
  }
  for (const k of Object.keys(u) as (keyof Units)[]) u[k] /= events;
  return u;
}

/** Cost in USD per million events, by service. */
function costPerMillion(u: Units): Record<string, number> {
  const m = 1e6;
  const c = {
    lambda:
      u.lambdaRequests * prices.lambda.requestsPerMillion +
      u.lambdaGbSeconds * m * prices.lambda.gbSecondArm64,
    sqs: u.sqsRequests * prices.sqs.requestsPerMillion,
    kms: u.kmsRequests * prices.kms.requestsPerMillion,
    dynamodb:
      u.wru * prices.dynamodb.writeRequestUnitsPerMillion +
      u.rru * prices.dynamodb.readRequestUnitsPerMillion,
    s3:
      (u.s3Tier1 * prices.s3.putCopyPostListPerThousand +
        u.s3Tier2 * prices.s3.getSelectPerThousand) *
      1000,
  };
  return {
    ...Object.fromEntries(Object.entries(c).map(([k, v]) => [k, round(v, 4)])),
    total: round(
      Object.values(c).reduce((a, b) => a + b, 0),
      4,
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// Machine

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model =
    /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  let nproc = os.cpus().length;
  try {
    nproc = Number(execFileSync('nproc').toString().trim());
  } catch {
    // os.cpus() it is
  }
  const moto = (() => {
    try {
      return execFileSync(path.join(ROOT, '.local/venv/bin/python'), [
        '-c',
        'import moto; print(moto.__version__)',
      ])
        .toString()
        .trim();
    } catch {
      return 'see local/endpoint.ts';
    }
  })();
  return {
    nproc,
    cpu: model,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
    node: process.version,
    moto,
    date: new Date().toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// Per-type cost

interface PhaseResult {
  events: number;
  invocations: Record<string, number>;
  meanBatchSize: Record<string, number>;
  calls: Record<string, number>;
  /** DynamoDB request units per event by call (e.g. the idempotency table's share). */
  dynamoUnitsByCall: Record<string, { wru: number; rru: number }>;
  units: Units;
  costPerMillion: Record<string, number>;
  handlerMs: Record<string, { p50: number; mean: number; endpointShare: number }>;
  modelledCostPerMillion: Record<string, number>;
}

function phaseResult(
  counts: CallCounts,
  events: number,
  runtime: LocalPipeline['runtime'],
  invocationsBefore: Record<string, number>,
  deliveredBefore: Record<string, number>,
  durations: Record<string, number[]>,
  memoryMb: Record<string, number>,
): PhaseResult {
  const invocations: Record<string, number> = {};
  const meanBatchSize: Record<string, number> = {};
  for (const [fn, n] of Object.entries(runtime.stats.invocations)) {
    const d = n - (invocationsBefore[fn] ?? 0);
    if (d > 0) {
      invocations[fn] = d;
      meanBatchSize[fn] = round(
        ((runtime.stats.deliveredRecords[fn] ?? 0) - (deliveredBefore[fn] ?? 0)) / d,
        2,
      );
    }
  }
  const totals = totalsByOperation(counts, (s) => s !== 'harness' && s !== 'unscoped');
  const calls: Record<string, number> = {};
  const dynamoUnitsByCall: Record<string, { wru: number; rru: number }> = {};
  for (const [op, c] of Object.entries(totals)) {
    const billable = op.startsWith('SQS.ReceiveMessage')
      ? c.attempts - c.emptyReceives
      : c.attempts;
    if (
      billable > 0 &&
      !op.startsWith('SQS.GetQueueAttributes') &&
      !op.startsWith('DynamoDBStreams')
    )
      calls[op] = round(billable / events, 3);
    if (op.startsWith('DynamoDB.'))
      dynamoUnitsByCall[op] = {
        wru: round(c.writeUnits / events, 3),
        rru: round(c.readUnits / events, 3),
      };
  }
  const units = unitsOf(totals, events);
  const modelled = { ...units };
  const handlerMs: PhaseResult['handlerMs'] = {};
  let gbs = 0;
  let gbsModelled = 0;
  for (const [fn, n] of Object.entries(invocations)) {
    const d = durations[fn] ?? [];
    const recent = d.slice(-n);
    const total = recent.reduce((a, b) => a + b, 0);
    const endpoint = Object.values(counts[fn] ?? {}).reduce((a, c) => a + c.endpointMs, 0);
    const callsMade = Object.values(counts[fn] ?? {}).reduce((a, c) => a + c.attempts, 0);
    handlerMs[fn] = {
      p50: round(quantile(recent, 0.5), 1),
      mean: round(total / Math.max(1, n), 1),
      endpointShare: round(endpoint / Math.max(1, total), 3),
    };
    const gb = (memoryMb[fn] ?? 512) / 1024;
    gbs += (total / 1000) * gb;
    // Modelled: the handler's own time plus an in-region round trip per call.
    gbsModelled += (Math.max(0, total - endpoint) / 1000 + (callsMade * AWS_CALL_MS) / 1000) * gb;
  }
  units.lambdaRequests = Object.values(invocations).reduce((a, b) => a + b, 0) / events;
  units.lambdaGbSeconds = gbs / events;
  modelled.lambdaRequests = units.lambdaRequests;
  modelled.lambdaGbSeconds = gbsModelled / events;
  return {
    events,
    invocations,
    meanBatchSize,
    calls,
    dynamoUnitsByCall,
    units: Object.fromEntries(
      Object.entries(units).map(([k, v]) => [k, round(v, 6)]),
    ) as unknown as Units,
    costPerMillion: costPerMillion(units),
    handlerMs,
    modelledCostPerMillion: costPerMillion(modelled),
  };
}

async function measureType(
  pipeline: LocalPipeline,
  counter: SdkCallCounter,
  timing: RuntimeInstrumentation,
  s3: S3Client,
  sqs: SQSClient,
  type: EventType,
  events: number,
  idPrefix: string,
  memoryMb: Record<string, number>,
): Promise<PhaseResult> {
  const { outputs } = pipeline.environment;
  const messages = generateWorkload({
    events,
    uploadBucket: outputs.UploadBucketName,
    mix: { [type]: 1 },
    invalidShare: 0,
    idPrefix,
    source: '/bench',
  });
  await putUploads(s3, outputs.UploadBucketName, messages);
  const before = counter.snapshot();
  const invocationsBefore = { ...pipeline.runtime.stats.invocations };
  const deliveredBefore = { ...pipeline.runtime.stats.deliveredRecords };
  await sendBodies(
    sqs,
    outputs.IngressQueueUrl,
    messages.map((m) => m.body),
  );
  await inScope('harness', () => pipeline.runtime.waitForIdle(15 * 60_000));
  const counts = diffCounts(counter.snapshot(), before);
  // Idle pollers of other queues only make empty receives, which are not per event.
  return phaseResult(
    counts,
    events,
    pipeline.runtime,
    invocationsBefore,
    deliveredBefore,
    timing.durationsMs,
    memoryMb,
  );
}

// ---------------------------------------------------------------------------------------------
// Naive reference

async function measureNaive(
  pipeline: LocalPipeline,
  counter: SdkCallCounter,
  events: number,
): Promise<PhaseResult & { cold: PhaseResult }> {
  const { outputs, endpoint, region } = pipeline.environment;
  const options = {
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const s3 = new S3Client({ ...options, forcePathStyle: true });
  const kms = new KMSClient(options);
  const dynamo = new DynamoDBClient(options);
  const sqs = new SQSClient(options);
  for (const c of [s3, kms, dynamo, sqs]) c.middlewareStack.use(counter);
  const harness = new SQSClient(options);
  const harnessS3 = new S3Client({ ...options, forcePathStyle: true });
  const { QueueUrl } = await harness.send(
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
  const durations: number[] = [];
  const run = async (n: number, prefix: string): Promise<PhaseResult> => {
    const messages = generateWorkload({
      events: n,
      uploadBucket: outputs.UploadBucketName,
      mix: { 'privacy.document.uploaded.v1': 1 },
      invalidShare: 0,
      idPrefix: prefix,
      source: '/bench-naive',
    });
    await putUploads(harnessS3, outputs.UploadBucketName, messages);
    await sendBodies(
      harness,
      QueueUrl!,
      messages.map((m) => m.body),
    );
    const before = counter.snapshot();
    const start = durations.length;
    let done = 0;
    let invocations = 0;
    await inScope('naive', async () => {
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
    });
    const counts = diffCounts(counter.snapshot(), before);
    // Attribute the naive run's calls to a pseudo-function so phaseResult prices its duration.
    const renamed: CallCounts = { 'naive-upload': counts.naive ?? {} };
    const fakeRuntime = {
      stats: {
        invocations: { 'naive-upload': invocations },
        deliveredRecords: { 'naive-upload': done },
      },
    } as unknown as LocalPipeline['runtime'];
    return phaseResult(
      renamed,
      n,
      fakeRuntime,
      {},
      {},
      { 'naive-upload': durations.slice(start) },
      { 'naive-upload': 512 },
    );
  };
  const cold = await run(WARMUP, 'naive-cold');
  const steady = await run(events, 'naive');
  for (const c of [s3, kms, dynamo, sqs, harness, harnessS3]) c.destroy();
  return { ...steady, cold };
}

// ---------------------------------------------------------------------------------------------
// Bundles

async function measureBundles(functionEnv: Record<string, Record<string, string>>) {
  mkdirSync(OUT, { recursive: true });
  const results: Record<
    string,
    {
      bytes: number;
      kib: number;
      initMsMedian: number;
      initMsRuns: number[];
      largestPackagesKiB: Record<string, number>;
    }
  > = {};
  for (const [fn, vars] of Object.entries(functionEnv)) {
    const outfile = path.join(OUT, 'bundles', `${fn}.js`);
    const built = await build({
      metafile: true,
      entryPoints: [path.join(ROOT, 'functions', `${fn}.ts`)],
      outfile,
      bundle: true,
      minify: BUNDLE_SETTINGS.minify,
      sourcemap: BUNDLE_SETTINGS.sourcemap,
      mainFields: [...BUNDLE_SETTINGS.mainFields],
      alias: { ...BUNDLE_SETTINGS.alias },
      platform: 'node',
      target: BUNDLE_SETTINGS.target,
      format: 'cjs',
      logLevel: 'error',
    });
    const bytes = statSync(outfile).size;
    // Where the bytes come from: minified output bytes by npm package (or project folder).
    const byPackage: Record<string, number> = {};
    for (const output of Object.values(built.metafile!.outputs))
      for (const [input, info] of Object.entries(output.inputs)) {
        const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
        const name = m ? m[1] : input.split('/')[0];
        byPackage[name] = (byPackage[name] ?? 0) + info.bytesInOutput;
      }
    const largestPackagesKiB = Object.fromEntries(
      Object.entries(byPackage)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([k, v]) => [k, round(v / 1024, 1)]),
    );
    const runs: number[] = [];
    const script = `const { performance } = require('node:perf_hooks'); const t = performance.now(); require(${JSON.stringify(outfile)}); process.stdout.write(String(performance.now() - t));`;
    for (let i = 0; i < INIT_RUNS; i += 1) {
      const child = spawnSync(process.execPath, ['-e', script], {
        env: {
          PATH: process.env.PATH,
          ...vars,
          AWS_REGION: 'eu-west-3',
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
          POWERTOOLS_DEV: 'false',
        },
        encoding: 'utf8',
      });
      if (child.status !== 0)
        throw new Error(`${fn} bundle does not load: ${child.stderr.slice(0, 400)}`);
      runs.push(round(Number(child.stdout), 1));
    }
    results[fn] = {
      bytes,
      kib: round(bytes / 1024, 1),
      initMsMedian: quantile(runs, 0.5),
      initMsRuns: runs,
      largestPackagesKiB,
    };
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Erasure scaling

async function measureErasure(pipeline: LocalPipeline) {
  const vaultModule = path.join(ROOT, 'shared/vault/document-vault.ts');
  try {
    statSync(vaultModule);
  } catch {
    return { pending: 'shared/vault/document-vault.ts does not exist yet' };
  }
  const { DocumentVault } =
    (await import('../shared/vault/document-vault')) as typeof import('../shared/vault/document-vault');
  const { endpoint, region, outputs } = pipeline.environment;
  const options = {
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const counter = new SdkCallCounter();
  const s3 = new S3Client({ ...options, forcePathStyle: true });
  const kms = new KMSClient(options);
  const dynamo = new DynamoDBClient(options);
  for (const c of [s3, kms, dynamo]) c.middlewareStack.use(counter);
  const vault = new DocumentVault({
    s3,
    kms,
    dynamo: createDynamoDocumentClient(dynamo),
    bucket: outputs.VaultBucketName,
    keyStoreTable:
      pipeline.runtime.findFunction('document-upload').environment.KEY_STORE_TABLE_NAME,
    wrappingKeyId: pipeline.runtime.findFunction('document-upload').environment.DOCUMENTS_KEY_ID,
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

// ---------------------------------------------------------------------------------------------
// Intake throughput (one instance: sequential invocations, pollers stopped)

async function measureIntake(pipeline: LocalPipeline, counter: SdkCallCounter) {
  const { outputs } = pipeline.environment;
  const messages = generateWorkload({
    events: INTAKE_EVENTS,
    uploadBucket: outputs.UploadBucketName,
    mix: {
      'privacy.document.uploaded.v1': 5,
      'privacy.account.closed.v1': 1,
      'privacy.erasure.requested.v1': 1,
      'privacy.access.requested.v1': 1,
      'privacy.legal-hold.placed.v1': 1,
    },
    invalidShare: 0,
    idPrefix: 'intake',
    source: '/bench-intake',
  });
  const batches: SQSEvent[] = [];
  for (let i = 0; i < messages.length; i += 10)
    batches.push({
      Records: messages.slice(i, i + 10).map(
        (m) =>
          ({
            messageId: randomUUID(),
            receiptHandle: 'local',
            body: m.body,
            attributes: {
              ApproximateReceiveCount: '1',
              SentTimestamp: String(Date.now()),
              SenderId: 'bench',
              ApproximateFirstReceiveTimestamp: String(Date.now()),
            },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:eu-west-3:000000000000:ingress',
            awsRegion: 'eu-west-3',
          }) as SQSRecord,
      ),
    });
  const before = counter.snapshot();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const batch of batches) await pipeline.runtime.invoke('intake', batch);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const counts = diffCounts(counter.snapshot(), before);
  const endpointMs = Object.values(counts.intake ?? {}).reduce((a, c) => a + c.endpointMs, 0);
  const calls = Object.values(counts.intake ?? {}).reduce((a, c) => a + c.attempts, 0);
  const handlerMs = wallMs - endpointMs;
  return {
    events: messages.length,
    batchSize: 10,
    wallSeconds: round(wallMs / 1000, 2),
    eventsPerSecond: round(messages.length / (wallMs / 1000), 1),
    sdkCallsPerEvent: round(calls / messages.length, 3),
    endpointSeconds: round(endpointMs / 1000, 2),
    endpointShare: round(endpointMs / wallMs, 3),
    handlerSeconds: round(handlerMs / 1000, 2),
    processCpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
    eventsPerSecondWithoutEndpointWait: round(messages.length / (handlerMs / 1000), 1),
    eventsPerSecondWithAwsLatency: round(
      messages.length / ((handlerMs + calls * AWS_CALL_MS) / 1000),
      1,
    ),
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const host = machine();
  log(
    `privacy-ops bench: ${host.cpu}, ${host.nproc} cores, ${host.memoryGiB} GiB, load ${host.loadAverageAtStart.join(' ')}, node ${host.node}, moto ${host.moto}`,
  );

  // Instrumentation before anything builds a client.
  let resources: Record<string, string> = {};
  const counter = new SdkCallCounter(
    (c: CallInfo) => resources[String(c.input.Bucket ?? c.input.TableName ?? '')],
  );
  const unregister = registerClientPlugin(counter);
  const pipeline = await startLocalPipeline({ log: () => undefined });
  const timing = instrumentRuntime(pipeline.runtime);
  const { outputs } = pipeline.environment;
  const uploadEnvironment = pipeline.runtime.findFunction('document-upload').environment;
  resources = {
    [outputs.LogBucketName]: 'log',
    [outputs.VaultBucketName]: 'vault',
    [outputs.UploadBucketName]: 'upload',
    [outputs.ExportBucketName]: 'export',
    [outputs.RetentionTableName]: 'retention',
    [uploadEnvironment.IDEMPOTENCY_TABLE_NAME]: 'idempotency',
    [uploadEnvironment.KEY_STORE_TABLE_NAME]: 'key-store',
  };
  const memoryMb: Record<string, number> = {};
  const functionEnv: Record<string, Record<string, string>> = {};
  for (const f of pipeline.runtime.functions.values()) {
    const key = f.entry.replace(/^functions\/|\.ts$/g, '');
    memoryMb[key] = f.memoryMb;
    functionEnv[key] = f.variables;
  }
  const clientOptions = {
    endpoint: pipeline.endpoint,
    region: 'eu-west-3',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const s3 = new S3Client({ ...clientOptions, forcePathStyle: true });
  const sqs = new SQSClient(clientOptions);
  const results: Record<string, unknown> = {
    machine: host,
    prices: { file: 'bench/prices.eu-west-3.json', date: prices.date, verified: prices.verified },
    memoryMb,
  };
  try {
    const types = Object.keys(OPERATION_OF_EVENT) as EventType[];

    const perType: Record<string, { cold: PhaseResult; steady: PhaseResult }> = {};
    for (const type of types) {
      const short = type.replace(/^privacy\.|\.v1$/g, '');
      const cold = await measureType(
        pipeline,
        counter,
        timing,
        s3,
        sqs,
        type,
        WARMUP,
        `${short}-cold`,
        memoryMb,
      );
      const steady = await measureType(
        pipeline,
        counter,
        timing,
        s3,
        sqs,
        type,
        STEADY,
        `${short}-steady`,
        memoryMb,
      );
      perType[type] = { cold, steady };
      log(
        `  ${type}: ${STEADY} events, $${steady.costPerMillion.total}/M (cold first ${WARMUP}: $${cold.costPerMillion.total}/M)`,
      );
    }
    results.perType = perType;

    const naive = await measureNaive(pipeline, counter, STEADY);
    results.naive = naive;
    log(`  naive upload: $${naive.costPerMillion.total}/M`);

    await pipeline.runtime.stop();
    const intake = await measureIntake(pipeline, counter);
    results.intakeThroughput = intake;
    log(
      `  intake: ${intake.eventsPerSecond} events/s per instance (endpoint share ${intake.endpointShare})`,
    );

    results.erasure = await measureErasure(pipeline);
    results.bundles = await measureBundles(functionEnv);

    // Targets (issue 7 item 3).
    const upload = perType['privacy.document.uploaded.v1']?.steady;
    const targets: Array<{ target: string; value: string; pass: boolean | null }> = [];
    const logPuts = (r: PhaseResult) =>
      Object.entries(r.calls)
        .filter(([k]) => k === 'S3.PutObject log')
        .reduce((a, [, v]) => a + v, 0);
    const kmsCalls = (r: PhaseResult) =>
      Object.entries(r.calls)
        .filter(([k]) => k.startsWith('KMS.'))
        .reduce((a, [, v]) => a + v, 0);
    for (const [type, r] of Object.entries(perType)) {
      targets.push({
        target: `${type}: log PUTs/event <= 0.1 (steady, batch 10)`,
        value: String(round(logPuts(r.steady), 3)),
        pass: logPuts(r.steady) <= 0.1,
      });
      targets.push({
        target: `${type}: KMS calls/event <= 0.05 (steady)`,
        value: String(round(kmsCalls(r.steady), 3)),
        pass: kmsCalls(r.steady) <= 0.05,
      });
    }
    const floor = costPerMillion({
      sqsRequests: 0,
      kmsRequests: 0,
      wru: 1,
      rru: 0,
      s3Tier1: 1,
      s3Tier2: 1,
      s3Free: 0,
      lambdaRequests: 0,
      lambdaGbSeconds: 0,
    }).total;
    results.floorPerMillionUploads = floor;
    if (upload) {
      targets.push({
        target: `cost per million uploads <= 1.25 x floor ($${floor})`,
        value: `$${upload.costPerMillion.total} (${round(upload.costPerMillion.total / floor, 2)} x)`,
        pass: upload.costPerMillion.total <= 1.25 * floor,
      });
      targets.push({
        target: `cost per million uploads <= 0.5 x naive ($${naive.costPerMillion.total})`,
        value: `$${upload.costPerMillion.total} (${round(upload.costPerMillion.total / naive.costPerMillion.total, 2)} x)`,
        pass: upload.costPerMillion.total <= 0.5 * naive.costPerMillion.total,
      });
      const idem =
        (upload.calls['DynamoDB.PutItem idempotency'] ?? 0) +
        (upload.calls['DynamoDB.UpdateItem idempotency'] ?? 0);
      results.idempotencyShare = {
        callsPerUpload: round(idem, 3),
        note: 'Powertools idempotency: PutItem (in progress) + UpdateItem (completed, with the stored log entries) per event',
      };
    }
    const bundles = results.bundles as Record<string, { kib: number }>;
    for (const [fn, b] of Object.entries(bundles))
      targets.push({
        target: `bundle ${fn} < 600 KB minified`,
        value: `${b.kib} KiB`,
        pass: b.kib * 1024 < 600 * 1000,
      });
    const erasure = results.erasure as { sizes?: Array<Record<string, number>>; pending?: string };
    const big = erasure.sizes?.find((s) => s.documents === 10000);
    targets.push({
      target: 'erasure of 10,000 documents: <= 1 + 10 DeleteObjects calls (+ key deletions)',
      value: big
        ? `${big.deleteObjectsCalls} DeleteObjects, ${big.listCalls} ListObjectVersions, ${big.keysDestroyed} keys`
        : (erasure.pending ?? 'not measured (BENCH_ERASURE_SIZES)'),
      pass: big ? big.deleteObjectsCalls <= 11 : null,
    });
    results.targets = targets;
    results.wallSeconds = round((performance.now() - started) / 1000, 1);
    printTables(results, perType, naive, targets);
  } finally {
    s3.destroy();
    sqs.destroy();
    await pipeline.stop();
    timing.restore();
    unregister();
  }
  writeFileSync(path.join(__dirname, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  log(`wrote bench/results.json (${round((performance.now() - started) / 1000, 1)} s)`);
}

function printTables(
  results: Record<string, unknown>,
  perType: Record<string, { cold: PhaseResult; steady: PhaseResult }>,
  naive: PhaseResult,
  targets: Array<{ target: string; value: string; pass: boolean | null }>,
): void {
  const rows: string[][] = [
    [
      'event type',
      'SQS',
      'KMS',
      'DDB WRU',
      'DDB RRU',
      'S3 PUT/LIST',
      'S3 GET',
      'Lambda inv',
      'GB-s',
      '$/M measured',
      '$/M modelled',
      'cold $/M',
    ],
  ];
  const row = (name: string, r: PhaseResult, cold?: PhaseResult) => [
    name,
    r.units.sqsRequests.toFixed(2),
    r.units.kmsRequests.toFixed(3),
    r.units.wru.toFixed(2),
    r.units.rru.toFixed(2),
    r.units.s3Tier1.toFixed(2),
    r.units.s3Tier2.toFixed(2),
    r.units.lambdaRequests.toFixed(2),
    r.units.lambdaGbSeconds.toFixed(4),
    r.costPerMillion.total.toFixed(2),
    r.modelledCostPerMillion.total.toFixed(2),
    cold ? cold.costPerMillion.total.toFixed(2) : '',
  ];
  for (const [type, r] of Object.entries(perType))
    rows.push(row(type.replace(/^privacy\.|\.v1$/g, ''), r.steady, r.cold));
  rows.push(
    row('naive upload (reference)', naive, (naive as PhaseResult & { cold?: PhaseResult }).cold),
  );
  log(
    '\nBillable units per event (steady state, batch size 10) and cost per million events, eu-west-3',
  );
  printTable(rows);
  log('\nCalls per event by service and operation (steady state)');
  const ops = new Set<string>();
  for (const r of Object.values(perType)) for (const k of Object.keys(r.steady.calls)) ops.add(k);
  for (const k of Object.keys(naive.calls)) ops.add(k);
  const names = Object.keys(perType).map((t) => t.replace(/^privacy\.|\.v1$/g, ''));
  const opRows = [['call', ...names, 'naive']];
  for (const op of [...ops].sort())
    opRows.push([
      op,
      ...Object.values(perType).map((r) => (r.steady.calls[op] ?? 0).toFixed(3)),
      (naive.calls[op] ?? 0).toFixed(3),
    ]);
  printTable(opRows);
  const bundles = results.bundles as Record<string, { kib: number; initMsMedian: number }>;
  log('\nBundles (esbuild: bundle, minify, sourcemap, node24, cjs) and module initialisation');
  printTable([
    ['function', 'KiB', 'init ms (median)'],
    ...Object.entries(bundles).map(([fn, b]) => [fn, String(b.kib), String(b.initMsMedian)]),
  ]);
  const erasure = results.erasure as { sizes?: Array<Record<string, unknown>>; pending?: string };
  log('\nErasure against the number of documents (DocumentVault, local endpoint)');
  if (erasure.pending) log(`  pending: ${erasure.pending}`);
  else
    printTable([
      [
        'documents',
        'unreadable: calls',
        'KMS',
        'ms',
        'DeleteObjects',
        'ListObjectVersions',
        'delete ms',
      ],
      ...(erasure.sizes ?? []).map((s) => [
        String(s.documents),
        JSON.stringify(s.unreadableCalls),
        String(s.unreadableKmsCalls),
        String(s.unreadableMs),
        String(s.deleteObjectsCalls),
        String(s.listCalls),
        String(s.deletionMs),
      ]),
    ]);
  const intake = results.intakeThroughput as Record<string, number>;
  log('\nIntake throughput, one instance, local endpoint');
  log(
    `  ${intake.eventsPerSecond} events/s; endpoint share ${intake.endpointShare} (${intake.endpointSeconds} s of ${intake.wallSeconds} s awaiting moto); without the endpoint wait ${intake.eventsPerSecondWithoutEndpointWait} events/s; with ${AWS_CALL_MS} ms per call ${intake.eventsPerSecondWithAwsLatency} events/s`,
  );
  log('\nTargets (issue 7 item 3)');
  printTable([
    ['', 'target', 'measured'],
    ...targets.map((t) => [
      t.pass === null ? 'PENDING' : t.pass ? 'PASS' : 'FAIL',
      t.target,
      t.value,
    ]),
  ]);
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const [i, r] of rows.entries()) {
    log(
      '  ' +
        r
          .map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j])))
          .join('  '),
    );
    if (i === 0) log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
