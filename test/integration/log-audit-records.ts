import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { ProcessingLogWriter, type LogEntry } from '../../shared/processing-log/writer';

/** Keys of the objects {@link writeSyntheticLog} wrote, per writer chain. */
export interface SyntheticLog {
  /** The `erasure-request` writer's chain: 3 objects. */
  readonly chainKeys: string[];
  /** The `retention-expiry` writer's chain: 4 objects. */
  readonly otherChainKeys: string[];
}

const ERASURE = 'privacy.erasure.requested.v1';
const ACCESS = 'privacy.access.requested.v1';

/** Builders of the synthetic records of one tenant and subject. */
function recordsOf(tenant: string, subject: string) {
  const request = (requestId: string, eventType: string, receivedAt: string, deadline: string) => ({
    tenant,
    operation: 'received' as const,
    outcome: 'success' as const,
    subject,
    requestId,
    deadline,
    eventId: `evt-${requestId}`,
    eventSource: '/crm',
    eventType,
    time: receivedAt,
  });
  const completed = (requestId: string, time: string) => ({
    tenant,
    operation: 'request-completed' as const,
    outcome: 'success' as const,
    subject,
    requestId,
    eventId: `evt-${requestId}`,
    eventSource: '/crm',
    time,
  });
  const expired = (category: string, time: string, n: number, outcome: 'success' | 'kept') => ({
    tenant,
    operation: 'expired' as const,
    outcome,
    subject,
    category,
    document: createHash('sha256').update(`${category}${time}${n}`).digest('hex'),
    time,
  });
  const waiting = (category: string, id: string, time: string) => ({
    tenant,
    operation: 'stored' as const,
    outcome: 'success' as const,
    subject,
    category,
    document: createHash('sha256').update(id).digest('hex'),
    reason: 'waiting-for-relationship-end',
    time,
  });
  return { request, completed, expired, waiting };
}

/** Writes each batch as one object of one writer chain; returns the objects' keys. */
async function writeChain(
  s3: S3Client,
  bucket: string,
  actor: string,
  batches: LogEntry[][],
): Promise<string[]> {
  const writer = new ProcessingLogWriter({ s3, bucket, actor });
  const keys: string[] = [];
  for (const batch of batches) {
    keys.push(writer.begin());
    for (const entry of batch) writer.add(entry);
    await writer.flush();
  }
  return keys;
}

/**
 * Writes clearly labelled synthetic records of one tenant and subject with the real writer:
 * requests (received, completed, one still open), erasure outcomes and expiries per category and
 * month, so the auditors' queries have exact expectations.
 */
export async function writeSyntheticLog(
  s3: S3Client,
  bucket: string,
  tenant: string,
  subject: string,
): Promise<SyntheticLog> {
  const { request, completed, expired, waiting } = recordsOf(tenant, subject);
  const now = Date.now();
  const iso = (t: number) => new Date(t).toISOString();
  const chainKeys = await writeChain(s3, bucket, 'erasure-request', [
    [
      request('R1', ERASURE, '2026-01-05T10:00:00.000Z', '2026-02-05T10:00:00.000Z'),
      {
        ...completed('R1', '2026-01-20T10:00:00.000Z'),
        operation: 'erased' as const,
        category: 'prospect-contact',
      },
      {
        ...completed('R1', '2026-01-20T10:00:00.000Z'),
        operation: 'restricted' as const,
        outcome: 'kept' as const,
        category: 'accounting-document',
        legalBasis: '17(3)(b) legal obligation',
      },
      {
        ...completed('R1', '2026-01-20T10:00:00.000Z'),
        operation: 'shredded' as const,
        category: 'prospect-contact',
      },
      completed('R1', '2026-01-20T10:00:00.000Z'),
      request('R2', ERASURE, '2026-02-01T10:00:00.000Z', '2026-03-01T10:00:00.000Z'),
    ],
    [
      completed('R2', '2026-03-10T10:00:00.000Z'),
      request('R3', ERASURE, '2026-03-01T10:00:00.000Z', '2026-04-01T10:00:00.000Z'),
    ],
    [
      request('R4', ERASURE, iso(now), iso(now + 30 * 86_400_000)),
      // an erasure a legal hold deferred: nothing deleted yet, still open
      request('R5', ERASURE, iso(now), iso(now + 30 * 86_400_000)),
      {
        ...completed('R5', iso(now)),
        operation: 'erased' as const,
        outcome: 'skipped' as const,
        category: 'case-document',
        reason: 'legal-hold;erasure-deferred-until-release',
      },
    ],
  ]);
  const otherChainKeys = await writeChain(s3, bucket, 'retention-expiry', [
    [
      expired('accounting-document', '2026-01-10T00:00:00.000Z', 1, 'success'),
      expired('accounting-document', '2026-01-11T00:00:00.000Z', 2, 'success'),
      expired('contract', '2026-01-12T00:00:00.000Z', 3, 'success'),
    ],
    [
      expired('contract', '2026-02-12T00:00:00.000Z', 4, 'success'),
      expired('contract', '2026-02-13T00:00:00.000Z', 5, 'kept'),
    ],
    [
      request('A1', ACCESS, '2026-04-01T10:00:00.000Z', '2026-05-01T10:00:00.000Z'),
      completed('A1', '2026-04-03T10:00:00.000Z'),
    ],
    [
      // documents waiting for the end of the relationship: W2's clock started, W1 and W3 wait
      waiting('contract', 'W1', '2026-01-05T00:00:00.000Z'),
      waiting('contract', 'W2', '2026-01-06T00:00:00.000Z'),
      {
        ...waiting('contract', 'W2', '2026-03-01T00:00:00.000Z'),
        outcome: 'kept' as const,
        reason: 'clock-started:relationship-end',
      },
      waiting('case-document', 'W3', '2026-02-07T00:00:00.000Z'),
    ],
  ]);
  return { chainKeys, otherChainKeys };
}
