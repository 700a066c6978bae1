import type { SQSRecord } from 'aws-lambda';

/**
 * Options of `processPartialResponse` for an operation's queue: the processor starts every record
 * at once (Powertools `processInParallel`, its default), and {@link inSubjectOrder} holds back a
 * record until the records of its subject before it in the batch are done; a batch whose every
 * record failed is answered with its failures, not thrown.
 */
export const IN_SUBJECT_ORDER = {
  throwOnFullBatchFailure: false,
  processInParallel: true,
} as const;

/**
 * What orders a record: its tenant and subject (`tenantid`, `data.subjectId`, or the subject of
 * the request a continuation carries), or its message id when its body names neither (it can only
 * be rejected, so it waits for nothing). Kept in memory for the batch only, never logged.
 */
export function subjectOrderKey(record: SQSRecord): string {
  try {
    const body = JSON.parse(record.body) as {
      tenantid?: unknown;
      data?: { subjectId?: unknown; request?: { data?: { subjectId?: unknown } } };
    };
    const tenant = body?.tenantid;
    const subject = body?.data?.subjectId ?? body?.data?.request?.data?.subjectId;
    if (typeof tenant === 'string' && typeof subject === 'string')
      return JSON.stringify([tenant, subject]);
  } catch {
    // not JSON: the record handler rejects it
  }
  return `message:${record.messageId}`;
}

/**
 * Wraps a record handler for one batch: records of distinct subjects run concurrently; a record
 * starts only once every record of its subject that the processor started before it has settled
 * (succeeded or failed, as one at a time would), so two events of one subject in one batch (a
 * hold placed, then released) apply in queue order. Call it once per invocation.
 */
export function inSubjectOrder<R>(
  handle: (record: SQSRecord) => Promise<R>,
): (record: SQSRecord) => Promise<R> {
  const last = new Map<string, Promise<unknown>>();
  return (record) => {
    const key = subjectOrderKey(record);
    const before = last.get(key) ?? Promise.resolve();
    const run = before.then(
      () => handle(record),
      () => handle(record),
    );
    last.set(key, run);
    return run;
  };
}
