import { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { createSqsClient } from '../aws/sqs';
import { requireEnv } from '../config';
import type { FunctionServices } from '../operations/environment';
import { ProcessingLogWriter } from '../processing-log/writer';
import { DeadLetterRouter } from './dead-letter';
import { OperationBatch } from './operation-batch';

/** A processing-log writer for `actor` on the environment's log bucket. */
export function logWriterFor(
  actor: string,
  s3: S3Client,
  env: NodeJS.ProcessEnv = process.env,
): ProcessingLogWriter {
  return new ProcessingLogWriter({ s3, bucket: requireEnv('LOG_BUCKET_NAME', env), actor });
}

/**
 * The {@link OperationBatch} of a queue-fed operation, wired from the environment (log bucket,
 * dead-letter queue, idempotency table); fails fast naming a missing variable.
 */
export function operationBatchFor(
  actor: string,
  services: FunctionServices,
  env: NodeJS.ProcessEnv = process.env,
): OperationBatch {
  return new OperationBatch({
    actor,
    log: logWriterFor(actor, services.s3, env),
    deadLetters: new DeadLetterRouter(
      createSqsClient(env),
      requireEnv('DEAD_LETTER_QUEUE_URL', env),
    ),
    pseudonyms: services.context.pseudonyms,
    dynamo: services.dynamo,
    idempotencyTable: requireEnv('IDEMPOTENCY_TABLE_NAME', env),
    logger: new Logger({ serviceName: actor }),
  });
}
