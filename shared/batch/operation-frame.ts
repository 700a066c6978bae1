import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import { asPermanent, isTransient } from '../errors';
import type { LogEntry } from '../processing-log/writer';
import {
  allRecordsFailed,
  BatchInvocation,
  type NeedsLambdaContext,
  type SQSBatchProcess,
} from './batch-invocation';
import type { BatchServices } from './batch-services';
import { parseEventBody } from './event-body';
import type { OperationEvent } from './event-key';
import { bodyAsJson } from './rejection-record';
import { Rejector } from './rejector';

export type { OperationEvent } from './event-key';

/** How an operation that keeps its own idempotency applied one event. */
export interface KeyedOutcome {
  readonly entries: LogEntry[];
  /** True when the effect had been applied before (a duplicate or a redelivery). */
  readonly replay: boolean;
  /** True when the entries go to this invocation's log object (first run, or a lost object). */
  readonly logged: boolean;
}

/** What one record's application reports, for the application log. */
export interface AppliedOutcome {
  readonly entries: readonly LogEntry[];
  readonly replay: boolean;
  readonly logged: boolean;
}

/**
 * The frame every operation fed by an SQS queue shares, whichever way it applies an event once
 * ({@link OperationBatch}: a Powertools idempotency record; {@link KeyedOperationBatch}: the
 * operation's own conditional write):
 *
 * - {@link parse}: the message body against the operation's schema;
 * - {@link rejectOrRethrow}: a permanent error (invalid input, unknown category, another tenant's
 *   data…) sends the message to the dead-letter queue at once with its reason and logs a
 *   `rejected` record, once per body, without blocking the rest of the batch; any other error is rethrown, so the
 *   record is retried (dead-lettered by the queue after its redrive limit);
 * - {@link handler}: one log object per invocation; if it cannot be written, every record is
 *   reported failed so the batch is retried and nothing is lost.
 */
export class OperationFrame {
  private readonly invocations: BatchInvocation;
  private readonly rejector: Pick<Rejector, 'reject' | 'registerLambdaContext'>;

  /**
   * @param actor name of the acting function (processing-log `actor`, rejections' key prefix)
   * @param services the function's services, built once per module (`functionServices`)
   * @param steps what else needs each invocation's context
   * @param rejector how a permanent error is rejected. @default the intake's {@link Rejector}:
   *   dead-letter queue and one `rejected` record, once per body
   */
  constructor(
    protected readonly actor: string,
    protected readonly services: BatchServices,
    steps: readonly NeedsLambdaContext[] = [],
    rejector?: Pick<Rejector, 'reject' | 'registerLambdaContext'>,
  ) {
    this.rejector = rejector ?? new Rejector({ actor, ...services });
    this.invocations = new BatchInvocation({
      log: services.log,
      logger: services.logger,
      steps: [...steps, this.rejector],
    });
  }

  /**
   * The event a message carries; throws a permanent error (reason `invalid-json`, or
   * `invalid-field:<path>`) when it does not match `schema`.
   */
  parse<S extends z.ZodMiniType>(record: SQSRecord, schema: S): z.infer<S> {
    return parseEventBody(record.body, schema, `${this.actor}'s schema`);
  }

  /** One record: parsed, `run` on its event, reported; a permanent error rejected. */
  protected async apply<S extends z.ZodMiniType<OperationEvent>>(
    record: SQSRecord,
    schema: S,
    run: (event: z.infer<S>) => Promise<AppliedOutcome>,
  ): Promise<void> {
    try {
      const event = this.parse(record, schema);
      const outcome = await run(event);
      // Identifiers only: message and event ids, type, tenant, what the log got. Never a person.
      this.services.logger.info('event processed', {
        messageId: record.messageId,
        eventId: event.id,
        eventType: event.type,
        tenant: event.tenantid,
        replay: outcome.replay,
        logged: outcome.logged ? outcome.entries.length : 0,
      });
      this.services.logger.debug('log entries', {
        messageId: record.messageId,
        entries: outcome.entries.map((e) => `${e.operation}/${e.outcome}`),
      });
    } catch (error) {
      await this.rejectOrRethrow(record, error);
    }
  }

  /**
   * Handles the error of one record: a permanent one (see `asPermanent`: ours, or a deterministic
   * JavaScript error as `unprocessable:<name>`) is rejected as the intake rejects, once per body:
   * dead-letter queue with its reason, one `rejected` record (the record then counts as done);
   * any other is rethrown.
   */
  async rejectOrRethrow(record: SQSRecord, error: unknown): Promise<void> {
    const { logger } = this.services;
    const permanent = asPermanent(error);
    if (!permanent) {
      logger.warn('record failed, will be retried', {
        messageId: record.messageId,
        error: error instanceof Error ? error.name : 'unknown',
        transient: isTransient(error),
      });
      throw error;
    }
    const outcome = await this.rejector.reject(record, permanent, bodyAsJson(record.body));
    logger.warn(
      outcome.deadLettered
        ? 'event rejected to the dead-letter queue'
        : 'duplicate of a rejected event',
      {
        messageId: record.messageId,
        reason: permanent.reason,
      },
    );
  }

  /**
   * The function's handler: `process` (which calls `processPartialResponse`) run for one
   * invocation at a time, in its log object (see {@link BatchInvocation}); if the log object
   * cannot be written, every record is reported failed and retried.
   */
  handler(process: SQSBatchProcess): SQSBatchProcess {
    const retryAll = (event: SQSEvent) => () => allRecordsFailed(event);
    return (event, context) =>
      this.invocations.run(context, () => process(event, context), retryAll(event));
  }
}
