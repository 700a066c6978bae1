import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { PrivacyEvent } from '../../events';
import { BatchInvocation, type SQSBatchProcess } from '../batch/batch-invocation';
import { isTransient } from '../errors';
import type { ProcessingLogWriter } from '../processing-log/writer';
import type { ForwardItem, OperationForwarder } from './forwarder';
import type { Rejector } from '../batch/rejector';
import type { RejectedMessage } from './validate';

/** What the intake needs around it: clients and services built once per module. */
export interface IntakeBatchOptions {
  readonly forwarder: OperationForwarder;
  readonly rejector: Rejector;
  readonly log: ProcessingLogWriter;
  readonly logger: Logger;
}

/**
 * The steps of the intake (ingress queue, partial batch responses), for its function's record
 * handler and handler to call:
 *
 * 1. each record is decided on (`decideIngressMessage`) in queue order; a valid event is
 *    {@link accept}ed for forwarding; a permanent error is {@link reject}ed at once (dead-letter
 *    queue with its `rejection-reason`, one `rejected` log entry, idempotent per body) and the
 *    record counts as done; a transient error while rejecting makes it a batch item failure;
 * 2. {@link handler}: after the records, the valid events are forwarded unchanged to their
 *    operation queues (SendMessageBatch, grouped by queue); entries that do not get through are
 *    batch item failures (the operations are idempotent on (tenantid, source, id), so forwarding one again is
 *    harmless);
 * 3. the invocation's log entries are written as one object; if that write fails, the records whose
 *    entries it held are reported failed, and their redelivery logs them again without sending them
 *    to the dead-letter queue a second time.
 */
export class IntakeBatch {
  private readonly invocations: BatchInvocation;
  /** This invocation's valid events, in queue order. */
  private accepted: ForwardItem[] = [];
  /** This invocation's records whose `rejected` entry is in its log object. */
  private logged = new Set<string>();

  constructor(private readonly options: IntakeBatchOptions) {
    this.invocations = new BatchInvocation({
      log: options.log,
      logger: options.logger,
      steps: [options.rejector],
    });
  }

  /** Keeps a valid event for forwarding at the end of the invocation. */
  accept(record: SQSRecord, event: PrivacyEvent): void {
    this.accepted.push({ messageId: record.messageId, body: record.body, event });
  }

  /** Rejects a message that can never be processed; throws (record retried) when that fails. */
  async reject(record: SQSRecord, decision: RejectedMessage): Promise<void> {
    const { rejector, logger } = this.options;
    try {
      const outcome = await rejector.reject(record, decision.error, decision.raw);
      if (outcome.logged) this.logged.add(record.messageId);
      logger.warn(
        outcome.deadLettered
          ? 'event rejected to the dead-letter queue'
          : 'duplicate of a rejected event',
        { messageId: record.messageId, reason: decision.error.reason },
      );
    } catch (error) {
      logger.warn('rejection failed, will be retried', {
        messageId: record.messageId,
        error: error instanceof Error ? error.name : 'unknown',
        transient: isTransient(error),
      });
      throw error;
    }
  }

  /**
   * The intake's handler: for one invocation at a time, `process` (which calls
   * `processPartialResponse` over the records), then the forwarding of what was accepted, then the
   * log object (see the class).
   */
  handler(process: SQSBatchProcess): SQSBatchProcess {
    return (event, context) =>
      this.invocations.run(
        context,
        async () => {
          this.accepted = [];
          this.logged = new Set();
          const decided = await process(event, context);
          return this.forward(event, decided);
        },
        (response) =>
          failuresOf(event, [
            ...response.batchItemFailures.map((f) => f.itemIdentifier),
            ...this.logged,
          ]),
      );
  }

  private async forward(event: SQSEvent, decided: SQSBatchResponse): Promise<SQSBatchResponse> {
    const { forwarder, logger } = this.options;
    const accepted = this.accepted;
    const failed = new Set(decided.batchItemFailures.map((f) => f.itemIdentifier));
    for (const failure of await forwarder.forward(accepted)) {
      failed.add(failure.messageId);
      logger.warn('forwarding failed, will be retried', {
        messageId: failure.messageId,
        code: failure.code,
      });
    }
    logger.info('batch triaged', {
      records: event.Records.length,
      forwarded: accepted.filter((a) => !failed.has(a.messageId)).length,
      rejected: event.Records.length - accepted.length,
      retried: failed.size,
    });
    logger.debug('forwarded events', {
      events: accepted.map((a) => ({
        messageId: a.messageId,
        eventId: a.event.id,
        type: a.event.type,
        tenant: a.event.tenantid,
      })),
    });
    return failuresOf(event, [...failed]);
  }
}

/** The batch response failing `messageIds`, in the order of the batch. */
function failuresOf(event: SQSEvent, messageIds: Iterable<string>): SQSBatchResponse {
  const failed = new Set(messageIds);
  return {
    batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
      itemIdentifier: r.messageId,
    })),
  };
}
