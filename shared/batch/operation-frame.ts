import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import { isTransient, PrivacyOpsError } from '../errors';
import { createHash } from 'node:crypto';
import type { LogEntry } from '../processing-log/writer';
import {
  allRecordsFailed,
  BatchInvocation,
  type NeedsLambdaContext,
  type SQSBatchProcess,
} from './batch-invocation';
import type { BatchServices } from './batch-services';
import { parseEventBody } from './event-body';
import { bodyAsJson, rejectionRecord } from './rejection-record';

/**
 * The fields of an operation's event that make its idempotency key: (`source`, `id`), as the wire
 * contract promises. Changing them (to add the tenant, say) changes the key for every operation at
 * once, the Powertools step ({@link OPERATION_EVENT_KEY}) and the upload's item ({@link eventKeyOf})
 * alike. Written once, here.
 */
export const OPERATION_EVENT_KEY_FIELDS = ['source', 'id'] as const;

/** The idempotency key as the JMESPath the Powertools step reads. */
export const OPERATION_EVENT_KEY = `[${OPERATION_EVENT_KEY_FIELDS.join(', ')}]`;

/** What a second delivery under the same key must repeat to be a duplicate: all but the key. */
export const OPERATION_EVENT_PAYLOAD_FIELDS = ['type', 'time', 'data'] as const;

const digest = (values: unknown[]) =>
  createHash('sha256').update(JSON.stringify(values)).digest('base64url');

/** The event's idempotency key as one short string (SHA-256, base64url), for a keyed write. */
export function eventKeyOf(event: Record<string, unknown>): string {
  return digest(OPERATION_EVENT_KEY_FIELDS.map((f) => event[f]));
}

/** A digest of what the event says besides its key: a duplicate has the same. */
export function payloadHashOf(event: Record<string, unknown>): string {
  return digest(OPERATION_EVENT_PAYLOAD_FIELDS.map((f) => event[f]));
}

/** How an operation that keeps its own idempotency applied one event. */
export interface KeyedOutcome {
  readonly entries: LogEntry[];
  /** True when the effect had been applied before (a duplicate or a redelivery). */
  readonly replay: boolean;
  /** True when the entries go to this invocation's log object (first run, or a lost object). */
  readonly logged: boolean;
}

/** The envelope fields an operation's event has (what the application log may show of it). */
export interface OperationEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly tenantid: string;
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
 *   `rejected` record, without blocking the rest of the batch; any other error is rethrown, so the
 *   record is retried (dead-lettered by the queue after its redrive limit);
 * - {@link handler}: one log object per invocation; if it cannot be written, every record is
 *   reported failed so the batch is retried and nothing is lost.
 */
export class OperationFrame {
  private readonly invocations: BatchInvocation;

  /**
   * @param actor name of the acting function (processing-log `actor`, idempotency key prefix)
   * @param services the function's services, built once per module (`functionServices`)
   * @param steps what needs each invocation's context
   */
  constructor(
    protected readonly actor: string,
    protected readonly services: BatchServices,
    steps: readonly NeedsLambdaContext[] = [],
  ) {
    this.invocations = new BatchInvocation({ log: services.log, logger: services.logger, steps });
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
   * Handles the error of one record: a permanent one dead-letters the message with its reason and
   * logs its `rejected` record (the record then counts as done); any other is rethrown.
   */
  async rejectOrRethrow(record: SQSRecord, error: unknown): Promise<void> {
    const { actor } = this;
    const { deadLetters, log, logger, pseudonyms } = this.services;
    if (!(error instanceof PrivacyOpsError) || error.transient) {
      logger.warn('record failed, will be retried', {
        messageId: record.messageId,
        error: error instanceof Error ? error.name : 'unknown',
        transient: isTransient(error),
      });
      throw error;
    }
    const entry = await rejectionRecord(bodyAsJson(record.body), error.reason, pseudonyms);
    await deadLetters.reject(record, error.reason, error.message, actor);
    log.add(entry);
    logger.warn('event rejected to the dead-letter queue', {
      messageId: record.messageId,
      reason: error.reason,
    });
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
