import type { SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import { logObjectsOf, type LogObjects } from '../processing-log/log-object-check';
import type { BatchServices } from './batch-services';
import { EventClaims } from './event-claim';
import { OperationFrame, type KeyedOutcome, type OperationEvent } from './operation-frame';

/**
 * The steps of an operation fed by an SQS queue that keeps its own idempotency: the event's key
 * claimed for its payload (one conditional write, see {@link EventClaims}: the same key with
 * another payload is refused; released when the run that claimed it fails), then the operation's write conditional on the event's key
 * (`eventKeyOf`) that remembers the log object its records went to ({@link applyKeyed}); in the
 * frame every operation shares (see {@link OperationFrame}). No Powertools step around the
 * operation: no in-progress record completed afterwards.
 */
export class KeyedOperationBatch extends OperationFrame {
  private readonly claims: EventClaims;

  /**
   * @param actor name of the acting function (processing-log `actor`, rejections' key prefix)
   * @param services the function's services, built once per module (`functionServices`)
   */
  constructor(actor: string, services: BatchServices) {
    super(actor, services);
    this.claims = new EventClaims(services.idempotency);
  }

  /**
   * One record: parsed against `schema`; its key claimed; `operate` applies it once and says
   * whether its entries go to this invocation's log object, which it names (see
   * {@link LogObjects}); a permanent error rejected (see {@link rejectOrRethrow}).
   */
  async applyKeyed<S extends z.ZodMiniType<OperationEvent>>(
    record: SQSRecord,
    schema: S,
    operate: (event: z.infer<S>, log: LogObjects) => Promise<KeyedOutcome>,
  ): Promise<void> {
    const { log } = this.services;
    const objects = logObjectsOf(log);
    await this.apply(record, schema, async (event) => {
      const claimed = await this.claims.claim(event);
      const outcome = await operate(event, objects).catch(async (error: unknown) => {
        if (claimed) await this.claims.release(event);
        throw error;
      });
      if (outcome.logged) for (const entry of outcome.entries) log.add(entry);
      return outcome;
    });
  }
}
