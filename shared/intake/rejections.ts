import type { JSONValue } from '@aws-lambda-powertools/commons/types';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSRecord } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { IDEMPOTENCY_WINDOW_SECONDS } from '../batch/operation-batch';
import type { DeadLetterRouter } from '../batch/dead-letter';
import type { PermanentError } from '../errors';
import type { LogEntry, ProcessingLogWriter } from '../processing-log/writer';
import type { Pseudonymizer } from '../pseudonym';
import { rejectionIdentifiers } from './validate';

/** What is remembered of one rejected message body (in the idempotency table). */
interface RejectionResult {
  readonly entry: LogEntry;
  /** Key of the log object the entry was meant for. */
  readonly logObjectKey: string;
}

/** How one rejection went: whether a log entry was queued in this invocation. */
export interface RejectionOutcome {
  /** True when the message was sent to the dead-letter queue by this call. */
  readonly deadLettered: boolean;
  /** True when a `rejected` entry was queued for this invocation's log object. */
  readonly logged: boolean;
}

/** What the rejector needs: the shared services of the intake. */
export interface IntakeRejectorOptions {
  readonly actor: string;
  readonly log: ProcessingLogWriter;
  readonly deadLetters: DeadLetterRouter;
  readonly pseudonyms: Pseudonymizer;
  readonly dynamo: DynamoDBClient;
  readonly idempotencyTable: string;
}

/** The idempotency key material of a rejection: the SHA-256 of the message body. */
export function rejectionKeyOf(body: string): { bodySha256: string } {
  return { bodySha256: createHash('sha256').update(body, 'utf8').digest('hex') };
}

/**
 * Rejects messages that can never be processed, once per distinct body: the first delivery sends
 * the message to the dead-letter queue (with its reason) and queues one `rejected` log entry; the
 * result is remembered (Powertools idempotency, key = SHA-256 of the body), so a duplicate
 * delivery, or a redelivery after a crash or a failed log write, does not send it again. A replay
 * queues the log entry again only when the log object it was meant for was never written.
 *
 * The log entry carries the tenant ('unknown' when invalid), the envelope identifiers when
 * well-formed, the reason, and the subject's pseudonym when tenant and subject id are valid;
 * nothing in clear.
 */
export class IntakeRejector {
  private readonly config: IdempotencyConfig;
  private readonly persistence: DynamoDBPersistenceLayer;
  private readonly rejectOnce: (
    key: { bodySha256: string },
    record: SQSRecord,
    error: PermanentError,
    raw: unknown,
    run: { computed: boolean },
  ) => Promise<RejectionResult>;

  constructor(private readonly options: IntakeRejectorOptions) {
    this.persistence = new DynamoDBPersistenceLayer({
      tableName: options.idempotencyTable,
      awsSdkV3Client: options.dynamo,
    });
    this.config = new IdempotencyConfig({
      eventKeyJmesPath: 'bodySha256',
      expiresAfterSeconds: IDEMPOTENCY_WINDOW_SECONDS,
    });
    this.rejectOnce = makeIdempotent(
      async (
        key: { bodySha256: string },
        record: SQSRecord,
        error: PermanentError,
        raw: unknown,
        run: { computed: boolean },
      ): Promise<RejectionResult> => {
        run.computed = true;
        const entry = await this.entryOf(error, raw, key.bodySha256);
        await options.deadLetters.reject(record, error.reason, error.message, options.actor);
        return { entry, logObjectKey: options.log.objectKey };
      },
      {
        dataIndexArgument: 0,
        persistenceStore: this.persistence,
        config: this.config,
        keyPrefix: `${options.actor}-rejection`,
      },
    );
  }

  /** Gives the idempotency layer the invocation's remaining time (for in-progress records). */
  registerLambdaContext(context: Context): void {
    this.config.registerLambdaContext(context);
  }

  /**
   * Rejects `record` for `error` (see the class). Throws when the dead-letter queue, KMS or the
   * idempotency table fails: the caller reports the record as failed, and the retry is safe.
   */
  async reject(record: SQSRecord, error: PermanentError, raw: unknown): Promise<RejectionOutcome> {
    const { log } = this.options;
    const run = { computed: false };
    const key = rejectionKeyOf(record.body);
    const result = await this.rejectOnce(key, record, error, raw, run);
    const lost =
      !run.computed &&
      result.logObjectKey !== log.objectKey &&
      !(await log.wasWritten(result.logObjectKey));
    if (run.computed || lost) log.add(result.entry);
    if (lost) {
      // The entry now goes to this invocation's object: the stored result must say so, or every
      // later duplicate would find the old object missing and log the entry once more.
      await this.persistence.saveSuccess(key, {
        entry: result.entry,
        logObjectKey: log.objectKey,
      } as unknown as JSONValue);
    }
    return { deadLettered: run.computed, logged: run.computed || lost };
  }

  private async entryOf(
    error: PermanentError,
    raw: unknown,
    bodySha256: string,
  ): Promise<LogEntry> {
    const ids = rejectionIdentifiers(raw);
    return {
      // One id per rejected body: a record logged twice (see the class) is recognisably the same.
      recordId: createHash('sha256')
        .update(`intake-rejection:${bodySha256}`)
        .digest('hex')
        .slice(0, 32),
      tenant: ids.tenant,
      operation: 'rejected',
      outcome: 'rejected',
      subject:
        ids.subjectId === null
          ? null
          : await this.options.pseudonyms.subject(ids.tenant, ids.subjectId),
      eventId: ids.eventId,
      eventSource: ids.eventSource,
      eventType: ids.eventType,
      reason: error.reason,
    };
  }
}
