import type { SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { LogEntry } from '../processing-log/writer';
import type { BatchServices } from './batch-services';
import {
  EVENT_KEY_JMESPATH,
  EVENT_KEY_PREFIX,
  EVENT_PAYLOAD_JMESPATH,
  type OperationEvent,
} from './event-key';
import { IdempotentStep } from './idempotent-step';
import { OperationFrame } from './operation-frame';
import type { Rejector } from './rejector';

export type { OperationEvent } from './event-key';

/**
 * The steps of an operation fed by an SQS queue that applies each event once through a Powertools
 * idempotency record ({@link applyOnce}): once per (`tenantid`, `source`, `id`), the same key with
 * another payload refused (`id-reused-with-different-payload`), its log entries logged once (see
 * {@link IdempotentStep}); in the frame every operation shares (parse, reject, one log object per
 * invocation: see {@link OperationFrame}).
 */
export class OperationBatch extends OperationFrame {
  private readonly step: IdempotentStep<OperationEvent>;

  /**
   * @param actor name of the acting function (processing-log `actor`, rejections' key prefix)
   * @param services the function's services, built once per module (`functionServices`)
   * @param rejector how a permanent error is rejected. @default the intake's `Rejector`
   */
  constructor(
    actor: string,
    services: BatchServices,
    rejector?: Pick<Rejector, 'reject' | 'registerLambdaContext'>,
  ) {
    const step = new IdempotentStep<OperationEvent>({
      keyPrefix: EVENT_KEY_PREFIX,
      eventKeyJmesPath: EVENT_KEY_JMESPATH,
      payloadJmesPath: EVENT_PAYLOAD_JMESPATH,
      log: services.log,
      idempotency: services.idempotency,
    });
    super(actor, services, [step], rejector);
    this.step = step;
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
    await this.apply(record, schema, (event) => this.step.run(event, () => operate(event)));
  }
}
