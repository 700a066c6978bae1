import type { SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import { logObjectsOf, type LogObjects } from '../processing-log/log-object-check';
import { OperationFrame, type KeyedOutcome, type OperationEvent } from './operation-frame';

/**
 * The steps of an operation fed by an SQS queue that keeps its own idempotency: a write
 * conditional on the event's key (`eventKeyOf`) that remembers the log object its records went to
 * ({@link applyKeyed}), in the frame every operation shares (see {@link OperationFrame}). No
 * idempotency table: one mechanism, and one write, per event.
 */
export class KeyedOperationBatch extends OperationFrame {
  /**
   * One record: parsed against `schema`; `operate` applies it once and says whether its entries go
   * to this invocation's log object, which it names (see {@link LogObjects}); a permanent error
   * rejected (see {@link rejectOrRethrow}).
   */
  async applyKeyed<S extends z.ZodMiniType<OperationEvent>>(
    record: SQSRecord,
    schema: S,
    operate: (event: z.infer<S>, log: LogObjects) => Promise<KeyedOutcome>,
  ): Promise<void> {
    const { log } = this.services;
    const objects = logObjectsOf(log);
    await this.apply(record, schema, async (event) => {
      const outcome = await operate(event, objects);
      if (outcome.logged) for (const entry of outcome.entries) log.add(entry);
      return outcome;
    });
  }
}
