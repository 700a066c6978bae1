import type { JSONValue } from '@aws-lambda-powertools/commons/types';
import {
  IdempotencyConfig,
  IdempotencyItemAlreadyExistsError,
  IdempotencyValidationError,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { PermanentError } from '../errors';
import type { IdempotencyTable } from './batch-services';
import {
  EVENT_KEY_JMESPATH,
  EVENT_KEY_PREFIX,
  EVENT_PAYLOAD_JMESPATH,
  ID_REUSED_REASON,
  type OperationEvent,
} from './event-key';
import { IDEMPOTENCY_WINDOW_SECONDS } from './idempotent-step';

/**
 * Claims an event's key (`tenantid`, `source`, `id`) for its payload, in the idempotency namespace
 * every operation shares, with one conditional write (for an operation whose own write keeps it
 * idempotent: the claim only settles who owns the key). The claim is a Powertools record in
 * progress for the whole idempotency window, so no other operation's step takes the key over:
 * an event of another type reusing the id is refused there, and here an event whose key another
 * payload claimed is refused (permanent `id-reused-with-different-payload`). The same payload
 * claims again without error: a redelivery, for the operation's own write to recognise.
 */
export class EventClaims {
  private readonly persistence: DynamoDBPersistenceLayer;

  constructor(idempotency: IdempotencyTable) {
    this.persistence = new DynamoDBPersistenceLayer({
      tableName: idempotency.table,
      awsSdkV3Client: idempotency.dynamo,
    });
    this.persistence.configure({
      config: new IdempotencyConfig({
        eventKeyJmesPath: EVENT_KEY_JMESPATH,
        payloadValidationJmesPath: EVENT_PAYLOAD_JMESPATH,
        expiresAfterSeconds: IDEMPOTENCY_WINDOW_SECONDS,
      }),
      keyPrefix: EVENT_KEY_PREFIX,
    });
  }

  /**
   * Claims `event`'s key for its payload (see the class): true when this call claimed it, false
   * when the same payload had. Throws what the table throws.
   */
  async claim(event: OperationEvent): Promise<boolean> {
    const data = event as unknown as JSONValue;
    try {
      await this.persistence.saveInProgress(data, IDEMPOTENCY_WINDOW_SECONDS * 1000);
      return true;
    } catch (error) {
      if (!(error instanceof IdempotencyItemAlreadyExistsError)) throw error;
      try {
        if (error.existingRecord)
          this.persistence.processExistingRecord(error.existingRecord, data);
        else await this.persistence.getRecord(data);
      } catch (mismatch) {
        if (mismatch instanceof IdempotencyValidationError)
          throw new PermanentError(ID_REUSED_REASON, 'event key used before with another payload', {
            cause: mismatch,
          });
        throw mismatch;
      }
      return false;
    }
  }

  /**
   * Releases a claim the run that failed had made, as a Powertools step deletes its record when
   * the function throws: a refused event leaves no claim, so a fixed event may reuse its id.
   */
  async release(event: OperationEvent): Promise<void> {
    await this.persistence.deleteRecord(event as unknown as JSONValue);
  }
}
