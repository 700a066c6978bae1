import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import { asPermanent, isTransient } from '../errors';
import type { LogEntry } from '../processing-log/writer';
import { allRecordsFailed, BatchInvocation, type SQSBatchProcess } from './batch-invocation';
import type { BatchServices } from './batch-services';
import { parseEventBody } from './event-body';
import {
  EVENT_KEY_JMESPATH,
  EVENT_KEY_PREFIX,
  EVENT_PAYLOAD_JMESPATH,
  type OperationEvent,
} from './event-key';
import { IdempotentStep } from './idempotent-step';
import { bodyAsJson } from './rejection-record';
import { Rejector } from './rejector';

/** The idempotency key of an operation's event (see `EVENT_KEY_JMESPATH`). */
export const OPERATION_EVENT_KEY = EVENT_KEY_JMESPATH;
export type { OperationEvent };

/**
 * The steps every operation fed by an SQS queue takes, for its function's record handler
 * ({@link applyOnce}) and handler ({@link handler}) to call:
 *
 * - {@link parse}: the message body against the operation's schema;
 * - the operation, once per (`tenantid`, `source`, `id`) (the same key with another payload is
 *   refused: `id-reused-with-different-payload`), its log entries logged once (see
 *   {@link IdempotentStep});
 * - {@link rejectOrRethrow}: a permanent error (invalid input, unknown category, another tenant's
 *   data…) sends the message to the dead-letter queue at once with its reason and logs a
 *   `rejected` record, without blocking the rest of the batch; any other error is rethrown, so the
 *   record is retried (dead-lettered by the queue after its redrive limit);
 * - {@link handler}: one log object per invocation; if it cannot be written, every record is
 *   reported failed so the batch is retried and nothing is lost.
 */
export class OperationBatch {
  private readonly step: IdempotentStep<OperationEvent>;
  private readonly rejector: Pick<Rejector, 'reject' | 'registerLambdaContext'>;
  private readonly invocations: BatchInvocation;

  /**
   * @param actor name of the acting function (processing-log `actor`, rejections' key prefix)
   * @param services the function's services, built once per module (`functionServices`)
   * @param rejector how a permanent error is rejected. @default the intake's {@link Rejector}:
   *   dead-letter queue and one `rejected` record, once per body
   */
  constructor(
    private readonly actor: string,
    private readonly services: BatchServices,
    rejector?: Pick<Rejector, 'reject' | 'registerLambdaContext'>,
  ) {
    this.rejector = rejector ?? new Rejector({ actor, ...services });
    this.step = new IdempotentStep({
      keyPrefix: EVENT_KEY_PREFIX,
      eventKeyJmesPath: OPERATION_EVENT_KEY,
      payloadJmesPath: EVENT_PAYLOAD_JMESPATH,
      log: services.log,
      idempotency: services.idempotency,
    });
    this.invocations = new BatchInvocation({
      log: services.log,
      logger: services.logger,
      steps: [this.step, this.rejector],
    });
  }

  /**
   * The event a message carries; throws a permanent error (reason `invalid-json`, or
   * `invalid-field:<path>`) when it does not match `schema`.
   */
  parse<S extends z.ZodMiniType>(record: SQSRecord, schema: S): z.infer<S> {
    return parseEventBody(record.body, schema, `${this.actor}'s schema`);
  }

  /**
   * One record: parsed against `schema`; `operate` applied to its event unless its (`tenantid`,
   * `source`, `id`) was processed before, the log entries it returned queued for this invocation's log
   * object once (see {@link IdempotentStep}); a permanent error rejected (see
   * {@link rejectOrRethrow}). Must be safe to run again after a crash: `operate` keys its effects.
   */
  async applyOnce<S extends z.ZodMiniType<OperationEvent>>(
    record: SQSRecord,
    schema: S,
    operate: (event: z.infer<S>) => Promise<LogEntry[]>,
  ): Promise<void> {
    try {
      const event = this.parse(record, schema);
      const outcome = await this.step.run(event, () => operate(event));
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
