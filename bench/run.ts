/**
 * `npm run bench`: measures the pipeline on the local endpoint (moto) and writes
 * bench/results.json and a table. Nothing here is a test: every figure is measured in this run,
 * and each target is printed with PASS or FAIL and its number.
 *
 * Environment: BENCH_EVENTS (steady-state events per type, default 200), BENCH_WARMUP (events
 * of the cold phase per type, default 20), BENCH_ERASURE_SIZES (default 1,100,10000),
 * BENCH_INTAKE_EVENTS (default 1000), BENCH_INIT_RUNS (default 5), BENCH_THROUGHPUT_UPLOADS
 * (default 1000).
 *
 * One file per benchmark family: cost-per-event.ts (each event type through the pipeline),
 * upload-throughput.ts (sustained uploads/s against the bare calls), naive-reference.ts,
 * intake-throughput.ts, erasure.ts, bundles.ts, checkpoints.ts, upload-memory.ts (peak RSS of
 * the upload handler by document size, BENCH_MEMORY_SIZES MiB, default 1,64,256),
 * large-subjects.ts (erasure and export of one subject's documents across invocations,
 * BENCH_LARGE_SIZES, default 1,10000,100000; BENCH_LARGE_KINDS, default erasure,access); targets.ts
 * judges them and tables.ts prints them.
 *
 * `npm run bench -- <family>…` runs only the named families (those of {@link FAMILIES}) and
 * updates their entries of bench/results.json, leaving the others as they were.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EventType } from '../events';
import { localClientOptions } from '../local/client-options';
import { startLocalPipeline, type LocalPipeline } from '../local/environment';
import { registerClientPlugin } from '../shared/aws/client-config';
import { OPERATION_OF_EVENT } from '../shared/operations/routes';
import { SdkCallCounter } from '../test/support/call-counter';
import type { CallInfo } from '../test/support/call-scopes';
import { instrumentRuntime } from '../test/support/runtime-instrumentation';
import { measureBundles } from './bundles';
import { measureCheckpoints } from './checkpoints';
import { measureType, type BenchContext, type PhaseResult } from './cost-per-event';
import { measureErasure } from './erasure';
import { measureIntake } from './intake-throughput';
import { measureLargeSubjects } from './large-subjects';
import { machine } from './machine';
import { measureNaive } from './naive-reference';
import { measureUploadMemory } from './upload-memory';
import { measureUploadThroughput } from './upload-throughput';
import { prices } from './pricing';
import { log, round, STEADY, WARMUP } from './settings';
import { printTables } from './tables';
import { floorPerMillionUploads, idempotencyShare, judgeTargets } from './targets';

/** Names the resource a call is about (`log`, `vault`, `idempotency`…) from the stack's names. */
function resourceNames(pipeline: LocalPipeline): Record<string, string> {
  const { outputs } = pipeline.environment;
  const upload = pipeline.runtime.findFunction('document-upload').environment;
  return {
    [outputs.LogBucketName]: 'log',
    [outputs.VaultBucketName]: 'vault',
    [outputs.UploadBucketName]: 'upload',
    [outputs.ExportBucketName]: 'export',
    [outputs.RetentionTableName]: 'retention',
    [upload.IDEMPOTENCY_TABLE_NAME]: 'idempotency',
    [upload.KEY_STORE_TABLE_NAME]: 'key-store',
  };
}

/** Cold then steady runs of every event type of the contract. */
async function measureEveryType(bench: BenchContext) {
  const perType: Record<string, { cold: PhaseResult; steady: PhaseResult }> = {};
  for (const type of Object.keys(OPERATION_OF_EVENT) as EventType[]) {
    const short = type.replace(/^privacy\.|\.v1$/g, '');
    const cold = await measureType(bench, type, WARMUP, `${short}-cold`);
    const steady = await measureType(bench, type, STEADY, `${short}-steady`);
    perType[type] = { cold, steady };
    log(
      `  ${type}: ${STEADY} events, $${steady.costPerMillion.total}/M (cold first ${WARMUP}: $${cold.costPerMillion.total}/M)`,
    );
  }
  return perType;
}

/** Runs every benchmark family on `bench`'s pipeline and returns the results, targets judged. */
async function measureAll(bench: BenchContext, results: Record<string, unknown>) {
  const { pipeline, counter } = bench;
  const perType = await measureEveryType(bench);
  results.perType = perType;
  const naive = await measureNaive(pipeline, counter, STEADY);
  results.naive = naive;
  log(`  naive upload: $${naive.costPerMillion.total}/M`);
  await pipeline.runtime.stop();
  const throughput = await measureUploadThroughput(bench);
  results.uploadThroughput = throughput;
  log(
    `  uploads: ${throughput.pipelineUploadsPerSecond}/s through the pipeline, baseline ${throughput.baselineUploadsPerSecond}/s (ratio ${throughput.ratio})`,
  );
  const intake = await measureIntake(pipeline, counter);
  results.intakeThroughput = intake;
  log(
    `  intake: ${intake.eventsPerSecond} events/s per instance (endpoint share ${intake.endpointShare})`,
  );
  const erasure = await measureErasure(pipeline);
  results.erasure = erasure;
  results.checkpoints = await measureCheckpoints(pipeline);
  results.largeSubjects = await measureLargeSubjects(pipeline);
  const bundles = await measureBundles(pipeline.runtime.functions.values());
  results.bundles = bundles;
  const uploadMemory = await measureUploadMemory(pipeline);
  results.uploadMemory = uploadMemory;
  results.floorPerMillionUploads = floorPerMillionUploads();
  const upload = perType['privacy.document.uploaded.v1']?.steady;
  if (upload) results.idempotencyShare = idempotencyShare(upload);
  const targets = judgeTargets({ perType, naive, bundles, erasure, throughput, uploadMemory });
  results.targets = targets;
  return { perType, naive, targets };
}

/** Families that run on their own (`npm run bench -- <family>`), by their results.json key. */
const FAMILIES: Record<string, (pipeline: LocalPipeline) => Promise<unknown>> = {
  erasure: measureErasure,
  checkpoints: measureCheckpoints,
  uploadMemory: measureUploadMemory,
  largeSubjects: measureLargeSubjects,
};

/** Runs only the named families and updates their entries of results.json. */
async function runFamilies(names: string[]): Promise<void> {
  const unknown = names.filter((n) => !FAMILIES[n]);
  if (unknown.length > 0)
    throw new Error(
      `unknown bench famil(ies) ${unknown.join(', ')}: ${Object.keys(FAMILIES).join(', ')}`,
    );
  const file = path.join(__dirname, 'results.json');
  const results = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)
    : {};
  const pipeline = await startLocalPipeline({ log: () => undefined, startRuntime: false });
  try {
    for (const name of names) {
      log(`${name}:`);
      results[name] = await FAMILIES[name]!(pipeline);
    }
  } finally {
    await pipeline.stop();
  }
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  log(`updated ${names.join(', ')} in bench/results.json`);
}

async function main(): Promise<void> {
  const families = process.argv.slice(2);
  if (families.length > 0) return runFamilies(families);
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
  // Costs are measured at one instance per function: on this machine's shared cores, instances
  // running at once would slow each other down and inflate every handler's measured time (in
  // Lambda each instance has its own CPU). The throughput run uses the template's concurrency.
  const pipeline = await startLocalPipeline({ log: () => undefined });
  const timing = instrumentRuntime(pipeline.runtime);
  resources = resourceNames(pipeline);
  const memoryMb = Object.fromEntries(
    [...pipeline.runtime.functions.values()].map((f) => [f.key, f.memoryMb]),
  );
  const options = localClientOptions(pipeline.endpoint);
  const bench: BenchContext = {
    pipeline,
    counter,
    timing,
    memoryMb,
    s3: new S3Client(options),
    sqs: new SQSClient(options),
  };
  const results: Record<string, unknown> = {
    machine: host,
    prices: { file: 'bench/prices.eu-west-3.json', date: prices.date, verified: prices.verified },
    memoryMb,
  };
  try {
    const { perType, naive, targets } = await measureAll(bench, results);
    results.wallSeconds = round((performance.now() - started) / 1000, 1);
    printTables(results, perType, naive, targets);
  } finally {
    bench.s3.destroy();
    bench.sqs.destroy();
    await pipeline.stop();
    timing.restore();
    unregister();
  }
  writeFileSync(path.join(__dirname, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  log(`wrote bench/results.json (${round((performance.now() - started) / 1000, 1)} s)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
