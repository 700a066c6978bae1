import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ProcessingLogWriter } from '../processing-log/writer';
import type { Pseudonymizer } from '../pseudonym';
import type { DeadLetterRouter } from './dead-letter';

/** The Powertools idempotency table and the client that reaches it. */
export interface IdempotencyTable {
  readonly table: string;
  readonly dynamo: DynamoDBClient;
}

/**
 * What a batch function's steps use, as `functionServices` builds them from the function's
 * declaration: the log, the dead-letter queue, the pseudonym key, the idempotency table, the
 * application logger.
 */
export interface BatchServices {
  readonly log: ProcessingLogWriter;
  readonly deadLetters: DeadLetterRouter;
  readonly pseudonyms: Pick<Pseudonymizer, 'subject'>;
  readonly idempotency: IdempotencyTable;
  readonly logger: Logger;
  /** @default the system clock */
  readonly now?: () => Date;
}
