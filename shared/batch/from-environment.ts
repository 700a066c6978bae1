import { Logger } from '@aws-lambda-powertools/logger';
import { createSqsClient } from '../aws/sqs';
import { requireEnv } from '../config';
import type { FunctionServices } from '../operations/environment';
import { DeadLetterRouter } from './dead-letter';
import { logWriterFor } from './log-writer';
import { OperationBatch } from './operation-batch';

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
