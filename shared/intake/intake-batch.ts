import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { isTransient } from '../errors';
import type { ProcessingLogWriter } from '../processing-log/writer';
import type { ForwardItem, OperationForwarder } from './forwarder';
import type { IntakeRejector } from './rejections';
import { decideIngressMessage, type IntakeRules } from './validate';

/** What the intake needs around it: clients and services built once per module. */
export interface IntakeOptions {
  readonly rules: IntakeRules;
  readonly forwarder: OperationForwarder;
  readonly rejector: IntakeRejector;
  readonly log: ProcessingLogWriter;
  readonly logger: Logger;
}

/**
 * Builds the intake's Lambda handler (ingress queue, partial batch responses):
 * 1. each record is decided on (size, JSON, envelope, type, data, upload bucket and key) through
 *    a Powertools BatchProcessor, in queue order; a permanent error rejects it at once (dead-letter
 *    queue with its `rejection-reason`, one `rejected` log entry, idempotent per body) and the record
 *    counts as done; a transient error while rejecting makes it a batch item failure;
 * 2. the valid events are forwarded unchanged to their operation queues (SendMessageBatch, grouped
 *    by queue); entries that do not get through are batch item failures (the operations are
 *    idempotent on (source, id), so forwarding one again is harmless);
 * 3. the invocation's log entries are written as one object; if that write fails, the records whose
 *    entries it held are reported failed, and their redelivery logs them again without sending them
 *    to the dead-letter queue a second time.
 */
export function createIntakeHandler(
  options: IntakeOptions,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const { rules, forwarder, rejector, log, logger } = options;
  // One invocation at a time per handler: the log writer collects one invocation's records, and
  // the local runtime (like Lambda managed instances) may run two batches in one process at once.
  let previous: Promise<unknown> = Promise.resolve();

  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    // A processor per invocation: its state (records, failures) must not be shared either.
    const processor = new BatchProcessor(EventType.SQS);
    rejector.registerLambdaContext(context);
    log.begin();
    const accepted: ForwardItem[] = [];
    const logged = new Set<string>();

    const recordHandler = async (record: SQSRecord): Promise<void> => {
      const decision = decideIngressMessage(record.body, rules);
      if (decision.ok) {
        accepted.push({ messageId: record.messageId, body: record.body, event: decision.event });
        return;
      }
      try {
        const outcome = await rejector.reject(record, decision.error, decision.raw);
        if (outcome.logged) logged.add(record.messageId);
        logger.warn(
          outcome.deadLettered
            ? 'event rejected to the dead-letter queue'
            : 'duplicate of a rejected event',
          {
            messageId: record.messageId,
            reason: decision.error.reason,
          },
        );
      } catch (error) {
        logger.warn('rejection failed, will be retried', {
          messageId: record.messageId,
          error: error instanceof Error ? error.name : 'unknown',
          transient: isTransient(error),
        });
        throw error;
      }
    };

    logger.addContext(context);
    const decided = await processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
      processInParallel: false,
    });
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
      forwarded:
        accepted.length -
        [...failed].filter((id) => accepted.some((a) => a.messageId === id)).length,
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
    try {
      await log.flush();
    } catch (error) {
      logger.error('processing-log write failed; the rejected records will be retried', {
        error: error instanceof Error ? error.name : 'unknown',
      });
      log.discard();
      for (const messageId of logged) failed.add(messageId);
    }
    return {
      batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
        itemIdentifier: r.messageId,
      })),
    };
  };

  return (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const run = previous.then(() => handle(event, context));
    previous = run.catch(() => undefined);
    return run;
  };
}
