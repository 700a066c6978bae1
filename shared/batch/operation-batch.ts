import type { SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import { FUNCTIONS } from '../functions/declarations';
import type { LogEntry } from '../processing-log/writer';
import type { BatchServices } from './batch-services';
import {
  EVENT_KEY_JMESPATH,
  EVENT_KEY_PREFIX,
  EVENT_PAYLOAD_JMESPATH,
  type OperationEvent,
} from './event-key';
import type { NeedsLambdaContext } from './batch-invocation';
import type { Continuation } from './continuation-queue';
import { IdempotentStep, type EffectResult } from './idempotent-step';
import { OperationFrame } from './operation-frame';
import type { Rejector } from './rejector';

export type { OperationEvent } from './event-key';

/** Where an operation's next page goes (the function's own queue: see `continuingOn`). */
export interface ContinueOn extends NeedsLambdaContext {
  continueWith(next: Continuation): Promise<void>;
}

/**
 * The steps of an operation fed by an SQS queue that applies each event once through a Powertools
 * idempotency record ({@link applyOnce}): once per (`tenantid`, `source`, `id`), the same key with
 * another payload refused (`id-reused-with-different-payload`), its log entries logged once (see
 * {@link IdempotentStep}); in the frame every operation shares (parse, reject, one log object per
 * invocation: see {@link OperationFrame}).
 */
export class OperationBatch extends OperationFrame {
  private readonly step: IdempotentStep<OperationEvent>;
  private readonly continuations?: ContinueOn;

  /**
   * @param actor name of the acting function (processing-log `actor`, rejections' key prefix)
   * @param services the function's services, built once per module (`functionServices`)
   * @param rejector how a permanent error is rejected. @default the intake's `Rejector`
   * @param continuations the function's own queue, where an operation that returns a continuation
   *   goes on. @default none (an operation that returns one fails)
   */
  constructor(
    actor: string,
    services: BatchServices,
    rejector?: Pick<Rejector, 'reject' | 'registerLambdaContext'>,
    continuations?: ContinueOn,
  ) {
    const step = new IdempotentStep<OperationEvent>({
      keyPrefix: EVENT_KEY_PREFIX,
      eventKeyJmesPath: EVENT_KEY_JMESPATH,
      payloadJmesPath: EVENT_PAYLOAD_JMESPATH,
      log: services.log,
      idempotency: services.idempotency,
      // A result younger than the function's timeout may still have its log object in flight.
      inFlightMs: timeoutMsOf(actor),
      ...(services.now ? { now: services.now } : {}),
    });
    super(actor, services, continuations ? [step, continuations] : [step], rejector);
    this.step = step;
    this.continuations = continuations;
  }

  /**
   * One record: parsed against `schema`; `operate` applied to its event unless its (`tenantid`,
   * `source`, `id`) was processed before, the log entries it returned queued for this invocation's log
   * object once (see {@link IdempotentStep}); a permanent error rejected (see
   * {@link rejectOrRethrow}). Must be safe to run again after a crash: `operate` keys its effects.
   *
   * When `operate` returns a continuation (the next page of a request too large for one
   * invocation), it is stored with the entries and sent to the function's own queue after the
   * step, on the first run and on every replay alike: a crash between the step and the send loses
   * no page, and a page sent twice is one event (same id, same payload), applied once.
   */
  async applyOnce<S extends z.ZodMiniType<OperationEvent>>(
    record: SQSRecord,
    schema: S,
    operate: (event: z.infer<S>) => Promise<LogEntry[] | EffectResult<Continuation>>,
  ): Promise<void> {
    await this.apply(record, schema, async (event) => {
      const outcome = await this.step.run(event, () => operate(event));
      if (outcome.next) {
        if (!this.continuations) throw new Error(`${this.actor} has no queue to continue on`);
        await this.continuations.continueWith(outcome.next as Continuation);
      }
      return outcome;
    });
  }
}

/** The acting function's timeout, in milliseconds (0 for an actor that is not a function). */
function timeoutMsOf(actor: string): number {
  const declared = (FUNCTIONS as Record<string, { timeoutSeconds: number } | undefined>)[actor];
  return (declared?.timeoutSeconds ?? 0) * 1000;
}
