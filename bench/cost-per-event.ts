import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventType } from '../events';
import type { LocalPipeline } from '../local/environment';
import type { RuntimeStats } from '../local/runtime';
import {
  diffCounts,
  totalsByOperation,
  type CallCount,
  type CallCounts,
  type SdkCallCounter,
} from '../test/support/call-counter';
import { inScope } from '../test/support/call-scopes';
import { quantile } from '../test/support/quantiles';
import type { RuntimeInstrumentation } from '../test/support/runtime-instrumentation';
import { costPerMillion, unitsOf, type Units } from './pricing';
import { AWS_CALL_MS, round } from './settings';
import { generateWorkload, putUploads, sendBodies } from './workload';

// Cost per event of each type: the calls, units and handler time of a run of one event type
// through the whole pipeline, priced.

/** What the benchmarks share: the instrumented pipeline and clients of the harness. */
export interface BenchContext {
  readonly pipeline: LocalPipeline;
  readonly counter: SdkCallCounter;
  readonly timing: RuntimeInstrumentation;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** Memory of each function (MB), by function key, from the template. */
  readonly memoryMb: Record<string, number>;
}

/** The figures of one phase (a run of events), per event. */
export interface PhaseResult {
  events: number;
  invocations: Record<string, number>;
  meanBatchSize: Record<string, number>;
  calls: Record<string, number>;
  /** DynamoDB request units per event by call (e.g. the idempotency table's share). */
  dynamoUnitsByCall: Record<string, { wru: number; rru: number }>;
  units: Units;
  /** Priced with the measured handler time (the figure quoted). */
  costPerMillion: Record<string, number>;
  /** Each invocation's own run (not its wait for an instance), by function. */
  handlerMs: Record<string, { p50: number; p95: number; mean: number; endpointShare: number }>;
  /**
   * Priced with a modelled handler time (time awaiting the local endpoint replaced by an
   * in-region round trip per call): not quoted, beside the measured one for comparison.
   */
  modelledCostPerMillion: Record<string, number>;
}

/** Billable calls per event by `Service.Operation`, and DynamoDB units per event by call. */
function perEventCalls(totals: Record<string, CallCount>, events: number) {
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
  return { calls, dynamoUnitsByCall };
}

/** Invocations and mean batch size of a phase, by function, from the runtime's counters. */
function phaseInvocations(
  stats: Pick<RuntimeStats, 'invocations' | 'deliveredRecords'>,
  before: Pick<RuntimeStats, 'invocations' | 'deliveredRecords'>,
) {
  const invocations: Record<string, number> = {};
  const meanBatchSize: Record<string, number> = {};
  for (const [fn, n] of Object.entries(stats.invocations)) {
    const d = n - (before.invocations[fn] ?? 0);
    if (d <= 0) continue;
    invocations[fn] = d;
    const delivered = (stats.deliveredRecords[fn] ?? 0) - (before.deliveredRecords[fn] ?? 0);
    meanBatchSize[fn] = round(delivered / d, 2);
  }
  return { invocations, meanBatchSize };
}

/**
 * The figures of a phase: calls and units per event from the counts, and Lambda GB-s from the
 * handlers' own run times: measured (as run here), and modelled (the time awaiting the local
 * endpoint replaced by an in-region round trip per call).
 */
export function phaseResult(
  counts: CallCounts,
  events: number,
  stats: Pick<RuntimeStats, 'invocations' | 'deliveredRecords'>,
  before: Pick<RuntimeStats, 'invocations' | 'deliveredRecords'>,
  durations: Record<string, number[]>,
  memoryMb: Record<string, number>,
): PhaseResult {
  const { invocations, meanBatchSize } = phaseInvocations(stats, before);
  const totals = totalsByOperation(counts, (s) => s !== 'harness' && s !== 'unscoped');
  const units = unitsOf(totals, events);
  const modelled = { ...units };
  const handlerMs: PhaseResult['handlerMs'] = {};
  let gbs = 0;
  let gbsModelled = 0;
  for (const [fn, n] of Object.entries(invocations)) {
    const recent = (durations[fn] ?? []).slice(-n);
    const total = recent.reduce((a, b) => a + b, 0);
    const endpoint = Object.values(counts[fn] ?? {}).reduce((a, c) => a + c.endpointMs, 0);
    const callsMade = Object.values(counts[fn] ?? {}).reduce((a, c) => a + c.attempts, 0);
    handlerMs[fn] = {
      p50: round(quantile(recent, 0.5), 1),
      p95: round(quantile(recent, 0.95), 1),
      mean: round(total / Math.max(1, n), 1),
      endpointShare: round(endpoint / Math.max(1, total), 3),
    };
    const gb = (memoryMb[fn] ?? 512) / 1024;
    gbs += (total / 1000) * gb;
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
    ...perEventCalls(totals, events),
    units: Object.fromEntries(
      Object.entries(units).map(([k, v]) => [k, round(v, 6)]),
    ) as unknown as Units,
    costPerMillion: costPerMillion(units),
    handlerMs,
    modelledCostPerMillion: costPerMillion(modelled),
  };
}

/** Sends `events` events of `type` through the pipeline and returns the phase's figures. */
export async function measureType(
  bench: BenchContext,
  type: EventType,
  events: number,
  idPrefix: string,
): Promise<PhaseResult> {
  const { pipeline, counter } = bench;
  const { outputs } = pipeline.environment;
  const messages = generateWorkload({
    events,
    uploadBucket: outputs.UploadBucketName,
    mix: { [type]: 1 },
    invalidShare: 0,
    idPrefix,
    source: '/bench',
  });
  await putUploads(bench.s3, outputs.UploadBucketName, messages);
  const before = counter.snapshot();
  const { stats } = pipeline.runtime;
  const statsBefore = {
    invocations: { ...stats.invocations },
    deliveredRecords: { ...stats.deliveredRecords },
  };
  await sendBodies(
    bench.sqs,
    outputs.IngressQueueUrl,
    messages.map((m) => m.body),
  );
  await inScope('harness', () => pipeline.runtime.waitForIdle(15 * 60_000));
  const counts = diffCounts(counter.snapshot(), before);
  // Idle pollers of other queues only make empty receives, which are not per event.
  return phaseResult(counts, events, stats, statsBefore, bench.timing.durationsMs, bench.memoryMb);
}
