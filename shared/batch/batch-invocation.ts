import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ProcessingLogWriter } from '../processing-log/writer';

/** What needs each invocation's context: the idempotency steps (remaining time). */
export interface NeedsLambdaContext {
  registerLambdaContext(context: Context): void;
}

/** Options of a {@link BatchInvocation}. */
export interface BatchInvocationOptions {
  readonly log: ProcessingLogWriter;
  readonly logger: Logger;
  readonly steps?: readonly NeedsLambdaContext[];
}

/**
 * The frame of one invocation of a batch function: one processing-log object per invocation,
 * one invocation at a time per module (the log writer collects one invocation's records, and a
 * process may be given two batches at once, as Lambda managed instances and the local runtime
 * can).
 *
 * Before the records: the logger and the idempotency steps get the context, and the log writer
 * fixes the key of this invocation's object. After them: the object is written; if that fails,
 * its records are dropped and `onLogFailure` says which records are retried, so that nothing the
 * object held is lost.
 */
export class BatchInvocation {
  private previous: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: BatchInvocationOptions) {}

  /** Runs `process` for one invocation (see the class), after the invocation before it. */
  run<R>(
    context: Context,
    process: () => Promise<R>,
    onLogFailure: (response: R, error: unknown) => R,
  ): Promise<R> {
    const run = this.previous.then(() => this.once(context, process, onLogFailure));
    this.previous = run.catch(() => undefined);
    return run;
  }

  private async once<R>(
    context: Context,
    process: () => Promise<R>,
    onLogFailure: (response: R, error: unknown) => R,
  ): Promise<R> {
    const { log, logger, steps = [] } = this.options;
    logger.addContext(context);
    for (const step of steps) step.registerLambdaContext(context);
    log.begin();
    const response = await process();
    try {
      await log.flush();
      return response;
    } catch (error) {
      logger.error('processing-log write failed; the records it held will be retried', {
        error: error instanceof Error ? error.name : 'unknown',
      });
      log.discard();
      return onLogFailure(response, error);
    }
  }
}

/** A batch function's handler, or what it runs for one invocation (`processPartialResponse`). */
export type SQSBatchProcess = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * Options of `processPartialResponse` for a queue whose records keep their order: one record at a
 * time, in queue order (the intake forwards events in the order they came); a batch whose every
 * record failed is answered with its failures, not thrown. Operations use `IN_SUBJECT_ORDER`.
 */
export const IN_QUEUE_ORDER = { throwOnFullBatchFailure: false, processInParallel: false } as const;

/** Every record of the batch reported failed: SQS redelivers them all. */
export function allRecordsFailed(event: SQSEvent): SQSBatchResponse {
  return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
}
