import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CallCount } from '../test/support/call-counter';
import { round } from './settings';

// Pricing of counted calls: billable units per event and their cost in eu-west-3.

/** The price list of bench/prices.eu-west-3.json. */
export interface Prices {
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
/** The prices every figure uses. */
export const prices = JSON.parse(
  readFileSync(path.join(__dirname, 'prices.eu-west-3.json'), 'utf8'),
) as Prices;

const S3_TIER1 =
  /^(PutObject|CopyObject|PostObject|List\w*|CreateMultipartUpload|UploadPart|CompleteMultipartUpload|PutObject\w+|PutBucket\w*)$/;
const S3_FREE = /^(DeleteObject|DeleteObjects|AbortMultipartUpload)$/;

/** Billable units per event of one set of counts. */
export interface Units {
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

/** Billable units per event of counted calls (S3 tiers, DynamoDB units, billable SQS requests). */
export function unitsOf(totals: Record<string, CallCount>, events: number): Units {
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
export function costPerMillion(u: Units): Record<string, number> {
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
