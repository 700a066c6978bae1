/**
 * `npx tsx bench/capacity.ts`: capacity on paper from the bench's per-call counts
 * (bench/results.json): at a sustained upload rate and for a bulk onboarding, the request rate each
 * limit sees, the limit (AWS quotas, documented defaults), the share used, the knob that raises it,
 * and the cost per day. Nothing is measured here: it multiplies the measured counts.
 *
 * Environment: CAPACITY_RATE (uploads/s, default 1000), CAPACITY_ONBOARDING (documents, default
 * 10,000,000), CAPACITY_CALL_MS (in-region round trip per call, default 10).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_QUEUE_SCALING } from '../infra/config';
import { EXPIRY_SHARDS } from '../shared/retention/retention-items';
import type { PhaseResult } from './cost-per-event';
import { log, round } from './settings';

const RATE = Number(process.env.CAPACITY_RATE ?? 1000);
const ONBOARDING = Number(process.env.CAPACITY_ONBOARDING ?? 10_000_000);
const CALL_MS = Number(process.env.CAPACITY_CALL_MS ?? 10);

/** Documented defaults (per account and region, or per partition / prefix). */
const LIMITS = {
  lambdaAccountConcurrency: 1000,
  sqsMappingScaleUpPerMinute: 300,
  dynamoPartitionWru: 1000,
  dynamoPartitionRru: 3000,
  dynamoTableWru: 40_000,
  s3PutPerPrefix: 3500,
  s3GetPerPrefix: 5500,
  kmsSymmetricPerSecond: 5500,
};

interface Results {
  perType: Record<string, { steady: PhaseResult }>;
}

const results = JSON.parse(readFileSync(path.join(__dirname, 'results.json'), 'utf8')) as Results;
const upload = results.perType['privacy.document.uploaded.v1'].steady;
const calls = (prefix: string) =>
  Object.entries(upload.calls)
    .filter(([k]) => k.startsWith(prefix))
    .reduce((a, [, v]) => a + v, 0);

const batch = DEFAULT_QUEUE_SCALING['document-upload'].batchSize;
const uploadCallsPerRecord = Object.entries(upload.calls)
  .filter(([k]) => !k.startsWith('SQS.') && !k.includes(' log'))
  .reduce((a, [, v]) => a + v, 0);
// A batch's records run concurrently (distinct subjects): a batch lasts about one record's calls
// plus the log object's PUT; an instance takes `batch` uploads per batch.
const batchSeconds = ((uploadCallsPerRecord + 1) * CALL_MS) / 1000;
const perInstance = batch / batchSeconds;
const instancesNeeded = Math.ceil(RATE / perInstance);
const maxConcurrency = DEFAULT_QUEUE_SCALING['document-upload'].maxConcurrency;

const rows: Array<[string, number, number, string]> = [
  [
    'Lambda: upload instances (concurrent batches)',
    instancesNeeded,
    maxConcurrency,
    'scaling.document-upload.maxConcurrency, accountConcurrency (quota increase)',
  ],
  [
    'SQS mapping scale-up (instances reached in 1 minute)',
    instancesNeeded,
    LIMITS.sqsMappingScaleUpPerMinute,
    'none: a burst reaches full concurrency after minutes; the queue absorbs it',
  ],
  [
    'DynamoDB table WRU/s (retention + key store)',
    RATE * upload.units.wru,
    LIMITS.dynamoTableWru,
    'on-demand table limit (quota increase)',
  ],
  [
    `DynamoDB by-expiry index WRU/s (${EXPIRY_SHARDS} shards)`,
    RATE,
    EXPIRY_SHARDS * LIMITS.dynamoPartitionWru,
    'EXPIRY_SHARDS',
  ],
  [
    'DynamoDB one busy subject: WRU/s on its partition at 10% of the rate',
    RATE * 0.1,
    LIMITS.dynamoPartitionWru,
    'none (hot key): adaptive capacity splits items, not one subject record',
  ],
  [
    'DynamoDB one busy subject: RRU/s of its subject record at 10% of the rate',
    RATE * 0.1 * calls('DynamoDB.GetItem retention'),
    LIMITS.dynamoPartitionRru,
    'none (hot key): spread a bulk import of one subject over time',
  ],
  [
    'S3 vault PUT/s per tenant prefix (one tenant at the whole rate)',
    RATE * calls('S3.PutObject vault'),
    LIMITS.s3PutPerPrefix,
    'vault keys are tenant/subject/…: S3 partitions busy prefixes further',
  ],
  [
    'S3 log PUT/s (dt=<day>/document-upload/ prefix)',
    RATE * calls('S3.PutObject log'),
    LIMITS.s3PutPerPrefix,
    'batchSize (fewer, larger log objects)',
  ],
  [
    'S3 upload GET/s per tenant prefix (one tenant at the whole rate)',
    RATE * calls('S3.GetObject upload'),
    LIMITS.s3GetPerPrefix,
    'producers spread keys under their tenant prefix',
  ],
  [
    'KMS requests/s (eu-west-3, symmetric)',
    RATE * calls('KMS.'),
    LIMITS.kmsSymmetricPerSecond,
    'caches (tenant keys 15 min); quota increase',
  ],
];

const perDay = (RATE * 86_400) / 1e6;
const cost = upload.costPerMillion;
log(
  `Capacity at ${RATE} uploads/s from bench/results.json (upload steady: ${uploadCallsPerRecord.toFixed(2)} calls per record, ${CALL_MS} ms per call in-region)`,
);
log(
  `  one instance: ~${round(perInstance, 0)} uploads/s (batches of ${batch}, records concurrent)`,
);
for (const [what, value, limit, knob] of rows)
  log(`  ${what}: ${round(value, 1)} of ${limit} (${round((100 * value) / limit, 1)} %) — ${knob}`);
log(
  `  cost per day: ${round(perDay, 1)} M uploads x $${cost.total}/M = $${round(perDay * cost.total, 0)} (DynamoDB $${round(perDay * cost.dynamodb, 0)}, S3 $${round(perDay * cost.s3, 0)}, Lambda $${round(perDay * cost.lambda, 0)})`,
);
// One tenant's onboarding: its uploads share its prefixes of the upload and vault buckets.
const byConcurrency = maxConcurrency * perInstance;
const byPrefix = LIMITS.s3PutPerPrefix / Math.max(calls('S3.PutObject vault'), 1e-9);
const onboardingRate = Math.min(byConcurrency, byPrefix);
log(
  `Onboarding of ${ONBOARDING / 1e6} M documents of one tenant: ~${round(onboardingRate, 0)} uploads/s (bound: ${byPrefix < byConcurrency ? `S3 PUT per prefix, ${LIMITS.s3PutPerPrefix}/s, until S3 splits the prefix` : `upload concurrency ${maxConcurrency}`}; ${maxConcurrency} instances would do ~${round(byConcurrency, 0)}/s), ${round(ONBOARDING / onboardingRate / 3600, 1)} h, $${round((ONBOARDING / 1e6) * cost.total, 0)}`,
);
