import type { PhaseResult } from './cost-per-event';
import type { ThroughputResult } from './upload-throughput';
import { costPerMillion } from './pricing';
import { round } from './settings';

/** One target, its measured value, and whether it is met (null: not measured in this run). */
export interface Target {
  target: string;
  value: string;
  pass: boolean | null;
}

/** The figures the targets are judged on. */
export interface TargetInputs {
  readonly perType: Record<string, { cold: PhaseResult; steady: PhaseResult }>;
  readonly naive: PhaseResult;
  readonly bundles: Record<string, { kib: number }>;
  readonly erasure: { sizes: Array<Record<string, unknown>> };
  readonly throughput?: ThroughputResult;
  /** Peak RSS of the upload handler by document size (upload-memory.ts). */
  readonly uploadMemory?: { growthMiB: number; runs: Array<{ sizeMiB: number; peakMiB: number }> };
}

/**
 * Budget of each function's minified bundle (cold-start size). 800 KB: the functions measured
 * 516-615 KiB before their AWS clients were traced; the X-Ray SDK the tracer needs adds about
 * 122 KiB to each, and its init time is measured beside the size.
 */
const BUNDLE_BUDGET_KB = 800;

const sumCalls = (r: PhaseResult, keep: (call: string) => boolean) =>
  Object.entries(r.calls)
    .filter(([k]) => keep(k))
    .reduce((a, [, v]) => a + v, 0);

/** The cost floor of an upload: S3 PUT + GET and one write unit, per million. */
export function floorPerMillionUploads(): number {
  return costPerMillion({
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
}

/**
 * Judges the run against the performance targets: log PUTs and KMS calls per event of every type,
 * the cost of an upload against the floor and the naive reference, bundle sizes, and the number
 * of DeleteObjects calls of a 10,000-document erasure.
 */
export function judgeTargets(inputs: TargetInputs): Target[] {
  const targets: Target[] = [];
  for (const [type, r] of Object.entries(inputs.perType)) {
    const logPuts = sumCalls(r.steady, (k) => k === 'S3.PutObject log');
    const kmsCalls = sumCalls(r.steady, (k) => k.startsWith('KMS.'));
    targets.push({
      target: `${type}: log PUTs/event <= 0.1 (steady, batch 10)`,
      value: String(round(logPuts, 3)),
      pass: logPuts <= 0.1,
    });
    targets.push({
      target: `${type}: KMS calls/event <= 0.05 (steady)`,
      value: String(round(kmsCalls, 3)),
      pass: kmsCalls <= 0.05,
    });
  }
  const upload = inputs.perType['privacy.document.uploaded.v1']?.steady;
  const floor = floorPerMillionUploads();
  const naive = inputs.naive.costPerMillion.total;
  if (upload) {
    const cost = upload.costPerMillion.total;
    targets.push({
      target: `cost per million uploads <= 1.25 x floor ($${floor})`,
      value: `$${cost} (${round(cost / floor, 2)} x)`,
      pass: cost <= 1.25 * floor,
    });
    targets.push({
      target: 'cost per million uploads <= $9.00 (steady, measured handler time)',
      value: `$${cost}`,
      pass: cost <= 9,
    });
    targets.push({
      target: 'DynamoDB per million uploads <= $2.00 (steady)',
      value: `$${upload.costPerMillion.dynamodb}`,
      pass: upload.costPerMillion.dynamodb <= 2,
    });
    targets.push({
      target: `cost per million uploads <= 0.5 x naive ($${naive})`,
      value: `$${cost} (${round(cost / naive, 2)} x)`,
      pass: cost <= 0.5 * naive,
    });
  }
  const t = inputs.throughput;
  targets.push({
    target: `sustained uploads/s through the pipeline >= 1.0 x the one-thread baseline`,
    value: t
      ? `${t.pipelineUploadsPerSecond}/s vs ${t.baselineUploadsPerSecond}/s (${t.ratio} x)`
      : 'not measured',
    pass: t ? t.ratio >= 1 : null,
  });
  for (const [fn, b] of Object.entries(inputs.bundles))
    targets.push({
      target: `bundle ${fn} < ${BUNDLE_BUDGET_KB} KB minified`,
      value: `${b.kib} KiB`,
      pass: b.kib * 1024 < BUNDLE_BUDGET_KB * 1000,
    });
  const memory = inputs.uploadMemory;
  const sizes = memory ? `${memory.runs[0].sizeMiB} → ${memory.runs.at(-1)!.sizeMiB} MiB` : '';
  targets.push({
    target: 'upload handler peak RSS grows < 64 MiB from the smallest document to the largest',
    value: memory ? `${memory.growthMiB} MiB (${sizes})` : 'not measured',
    pass: memory ? memory.growthMiB < 64 : null,
  });
  const big = inputs.erasure.sizes.find((s) => s.documents === 10000) as
    Record<string, number> | undefined;
  targets.push({
    target: 'erasure of 10,000 documents: <= 1 + 10 DeleteObjects calls (+ key deletions)',
    value: big
      ? `${big.deleteObjectsCalls} DeleteObjects, ${big.listCalls} ListObjectVersions, ${big.keysDestroyed} keys`
      : 'not measured (BENCH_ERASURE_SIZES)',
    pass: big ? big.deleteObjectsCalls <= 11 : null,
  });
  return targets;
}

/** The idempotency table's calls per upload (none since the retention item's write is its idempotency). */
export function idempotencyShare(upload: PhaseResult) {
  const calls =
    (upload.calls['DynamoDB.PutItem idempotency'] ?? 0) +
    (upload.calls['DynamoDB.UpdateItem idempotency'] ?? 0);
  return {
    callsPerUpload: round(calls, 3),
    note: 'Powertools idempotency: PutItem (in progress) + UpdateItem (completed, with the stored log entries) per event',
  };
}
