import type { SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { LogEntry } from '../processing-log/writer';
import type { BatchServices } from './batch-services';
import { IdempotentStep } from './idempotent-step';
import { OPERATION_EVENT_KEY, OperationFrame, type OperationEvent } from './operation-frame';

export {
  OPERATION_EVENT_KEY,
  OPERATION_EVENT_KEY_FIELDS,
  type OperationEvent,
} from './operation-frame';

/**
 * The steps of an operation fed by an SQS queue that applies each event once through a Powertools
 * idempotency record ({@link applyOnce}), in the frame every operation shares (parse, reject,
 * one log object per invocation: see {@link OperationFrame}). Refuses services without an
 * idempotency table.
 */
export class OperationBatch extends OperationFrame {
  private readonly step: IdempotentStep<OperationEvent>;

  /**
   * @param actor name of the acting function (processing-log `actor`, idempotency key prefix)
   * @param services the function's services, built once per module (`functionServices`)
   */
  constructor(actor: string, services: BatchServices) {
    const { idempotency } = services;
    if (!idempotency) throw new Error(`${actor} declares no idempotency table`);
    const step = new IdempotentStep<OperationEvent>({
      keyPrefix: actor,
      eventKeyJmesPath: OPERATION_EVENT_KEY,
      log: services.log,
      idempotency,
    });
    super(actor, services, [step]);
    this.step = step;
  }

  /**
   * One record: parsed against `schema`; `operate` applied to its event unless its (`source`,
   * `id`) was processed before, the log entries it returned queued for this invocation's log
   * object once (see {@link IdempotentStep}); a permanent error rejected (see
   * {@link rejectOrRethrow}). Must be safe to run again after a crash: `operate` keys its effects.
   */
  async applyOnce<S extends z.ZodMiniType<OperationEvent>>(
    record: SQSRecord,
    schema: S,
    operate: (event: z.infer<S>) => Promise<LogEntry[]>,
  ): Promise<void> {
    await this.apply(record, schema, (event) => this.step.run(event, () => operate(event)));
  }
}
