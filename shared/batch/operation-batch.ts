import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { JSONValue } from '@aws-lambda-powertools/commons/types';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import { isTransient, PermanentError, PrivacyOpsError } from '../errors';
import type { Pseudonymizer } from '../pseudonym';
import type { LogEntry, ProcessingLogWriter } from '../processing-log/writer';
import type { DeadLetterRouter } from './dead-letter';

/** How long a processed (source, id) is remembered: a redelivery within this window has no effect. */
export const IDEMPOTENCY_WINDOW_SECONDS = 14 * 24 * 3600;

/** What the idempotency layer stores for one processed event. */
interface OperationResult {
  readonly entries: LogEntry[];
  readonly logObjectKey: string;
}

/** What an operation needs around it: clients and services built once per module. */
export interface OperationBatchOptions<S extends z.ZodMiniType> {
  /** Name of the acting function (processing log `actor`, idempotency key prefix). */
  readonly actor: string;
  /** Schema of the events this operation accepts. */
  readonly schema: S;
  /**
   * The operation: applies the event's effects and returns the processing-log entries that
   * describe them. Must be safe to run again after a crash (its effects are keyed).
   */
  readonly operate: (event: z.infer<S>) => Promise<LogEntry[]>;
  readonly log: ProcessingLogWriter;
  readonly deadLetters: DeadLetterRouter;
  readonly pseudonyms: Pseudonymizer;
  readonly dynamo: DynamoDBClient;
  readonly idempotencyTable: string;
  readonly logger: Logger;
}

/**
 * Builds the Lambda handler of an operation fed by an SQS queue:
 * - each record is parsed against the operation's schema; a permanent error (invalid input,
 *   unknown category, another tenant's data…) sends it to the dead-letter queue at once with its
 *   reason and logs a `rejected` record, without blocking the rest of the batch;
 * - the operation runs once per (`source`, `id`) (Powertools idempotency on DynamoDB); its log
 *   entries are stored with the idempotency record, so a redelivery after a crash re-logs them
 *   instead of losing them;
 * - transient errors become batch item failures (retried, dead-lettered after the redrive limit);
 * - the log entries of the whole invocation are written as one object; if that write fails,
 *   every record is reported failed so the batch is retried and nothing is lost.
 */
export function createOperationHandler<S extends z.ZodMiniType>(
  options: OperationBatchOptions<S>,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const { actor, schema, operate, log, deadLetters, pseudonyms, logger } = options;
  const processor = new BatchProcessor(EventType.SQS);
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: '[source, id]',
    expiresAfterSeconds: IDEMPOTENCY_WINDOW_SECONDS,
  });
  // The stored result carries the entries and the key of the log object they were meant for.
  // `run` is a fresh token per call (not part of the idempotency key): it tells a computed result
  // from a replayed one.
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.idempotencyTable,
    awsSdkV3Client: options.dynamo,
  });
  const idempotentOperate = makeIdempotent(
    async (event: z.infer<S>, run: { computed: boolean }): Promise<OperationResult> => {
      run.computed = true;
      return { entries: await operate(event), logObjectKey: log.objectKey };
    },
    {
      dataIndexArgument: 0,
      persistenceStore,
      config: idempotencyConfig,
      keyPrefix: actor,
    },
  );

  const rejectRecord = async (
    record: SQSRecord,
    error: PrivacyOpsError,
    raw: unknown,
  ): Promise<void> => {
    const event = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const tenant =
      typeof event.tenantid === 'string' && /^[a-z0-9][a-z0-9-]{0,62}$/.test(event.tenantid)
        ? event.tenantid
        : 'unknown';
    const data = (event.data ?? {}) as Record<string, unknown>;
    const subject =
      tenant !== 'unknown' &&
      typeof data.subjectId === 'string' &&
      /^[A-Za-z0-9._:@-]{1,128}$/.test(data.subjectId)
        ? await pseudonyms.subject(tenant, data.subjectId)
        : null;
    await deadLetters.reject(record, error.reason, error.message, actor);
    log.add({
      tenant,
      operation: 'rejected',
      outcome: 'rejected',
      subject,
      eventId: typeof event.id === 'string' ? event.id.slice(0, 128) : null,
      eventSource: typeof event.source === 'string' ? event.source.slice(0, 512) : null,
      eventType: typeof event.type === 'string' ? event.type.slice(0, 128) : null,
      reason: error.reason,
    });
    logger.warn('event rejected to the dead-letter queue', {
      messageId: record.messageId,
      reason: error.reason,
    });
  };

  const recordHandler = async (record: SQSRecord): Promise<void> => {
    let raw: unknown;
    try {
      try {
        raw = JSON.parse(record.body);
      } catch {
        throw new PermanentError('invalid-json', 'message body is not JSON');
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new PermanentError(
          `invalid-field:${issue?.path.join('.') || '(root)'}`,
          `event does not match ${actor}'s schema`,
        );
      }
      const run = { computed: false };
      const result = await idempotentOperate(parsed.data, run);
      // A replay (duplicate delivery, or redelivery after a crash) returns the stored result: its
      // entries are logged again only if the object they were meant for was never written.
      const lost =
        !run.computed &&
        result.logObjectKey !== log.objectKey &&
        !(await log.wasWritten(result.logObjectKey));
      if (run.computed || lost) for (const entry of result.entries) log.add(entry);
      if (lost) {
        // The entries now go to this invocation's object: the stored result must say so, or
        // every later duplicate would find the old object missing and log them once more.
        await persistenceStore.saveSuccess(
          parsed.data as JSONValue,
          {
            entries: result.entries,
            logObjectKey: log.objectKey,
          } as unknown as JSONValue,
        );
      }
      // Identifiers only: message and event ids, type, tenant, what the log got. Never a person.
      const envelope = parsed.data as { id: string; type: string; tenantid: string };
      logger.info('event processed', {
        messageId: record.messageId,
        eventId: envelope.id,
        eventType: envelope.type,
        tenant: envelope.tenantid,
        replay: !run.computed,
        logged: run.computed || lost ? result.entries.length : 0,
      });
      logger.debug('log entries', {
        messageId: record.messageId,
        entries: result.entries.map((e) => `${e.operation}/${e.outcome}`),
      });
    } catch (error) {
      if (error instanceof PrivacyOpsError && !error.transient) {
        await rejectRecord(record, error, raw);
        return;
      }
      logger.warn('record failed, will be retried', {
        messageId: record.messageId,
        error: error instanceof Error ? error.name : 'unknown',
        transient: isTransient(error),
      });
      throw error;
    }
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    logger.addContext(context);
    idempotencyConfig.registerLambdaContext(context);
    log.begin();
    const response = await processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
      // Queue order within a batch matters (a hold placed then released for one subject).
      processInParallel: false,
    });
    try {
      await log.flush();
    } catch (error) {
      logger.error('processing-log write failed; the whole batch will be retried', {
        error: error instanceof Error ? error.name : 'unknown',
      });
      log.discard();
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    }
    return response;
  };
}
