import type { S3Client } from '@aws-sdk/client-s3';
import type { LogEntry } from '../processing-log/writer';
import { createOperationHandler } from '../batch/operation-batch';
import { requireEnv } from '../config';
import { SERVICE_VARIABLES } from '../functions/declarations';
import type { CommonServices, ServiceObjects } from '../functions/services';
import { ProcessingLogWriter } from '../processing-log/writer';
import type * as z from 'zod/mini';

/** A processing-log writer for `actor` on the environment's log bucket. */
export function logWriterFor(actor: string, s3: S3Client, env: NodeJS.ProcessEnv = process.env) {
  return new ProcessingLogWriter({
    s3,
    bucket: requireEnv(SERVICE_VARIABLES.log.bucket, env),
    actor,
  });
}

/** The services every queue-fed operation has around its own (see its declaration). */
export type QueueOperationServices = Pick<
  ServiceObjects,
  'log' | 'deadLetters' | 'pseudonyms' | 'idempotency'
> &
  Pick<CommonServices, 'logger'>;

/**
 * The SQS handler of a queue-fed operation: {@link createOperationHandler} wired with the
 * function's services (log, dead-letter queue, idempotency table).
 */
export function queueOperationHandler<S extends z.ZodMiniType>(
  actor: string,
  schema: S,
  services: QueueOperationServices,
  operate: (event: z.infer<S>) => Promise<LogEntry[]>,
) {
  return createOperationHandler({
    actor,
    schema,
    operate,
    log: services.log,
    deadLetters: services.deadLetters,
    pseudonyms: services.pseudonyms,
    dynamo: services.idempotency.dynamo,
    idempotencyTable: services.idempotency.table,
    logger: services.logger,
  });
}
