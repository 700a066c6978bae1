import type { Context, SQSRecord } from 'aws-lambda';
import { createHash } from 'node:crypto';
import type { PrivacyOpsError } from '../errors';
import type { BatchServices } from './batch-services';
import { IdempotentStep } from './idempotent-step';
import { rejectionRecord } from './rejection-record';

/** How one rejection went: whether a log entry was queued in this invocation. */
export interface RejectionOutcome {
  /** True when the message was sent to the dead-letter queue by this call. */
  readonly deadLettered: boolean;
  /** True when a `rejected` entry was queued for this invocation's log object. */
  readonly logged: boolean;
}

/** What the rejector needs: the acting function's name and its batch services. */
export interface RejectorOptions extends Pick<
  BatchServices,
  'log' | 'deadLetters' | 'pseudonyms' | 'idempotency'
> {
  readonly actor: string;
}

/** The idempotency key material of a rejection: the SHA-256 of the message body. */
export function rejectionKeyOf(body: string): { bodySha256: string } {
  return { bodySha256: createHash('sha256').update(body, 'utf8').digest('hex') };
}

/**
 * Rejects messages that can never be processed, the same way on every path (the intake and every
 * operation), once per distinct body: the first delivery sends
 * the message to the dead-letter queue (with its reason) and queues one `rejected` log entry (see
 * `rejectionRecord`: nothing in clear); the result is remembered (key = SHA-256 of the body), so
 * a duplicate delivery, or a redelivery after a crash or a failed log write, does not send it
 * again, and logs the entry again only when the log object it was meant for was never written
 * (see `IdempotentStep`).
 */
export class Rejector {
  private readonly step: IdempotentStep<{ bodySha256: string }>;

  constructor(private readonly options: RejectorOptions) {
    this.step = new IdempotentStep({
      keyPrefix: `${options.actor}-rejection`,
      eventKeyJmesPath: 'bodySha256',
      log: options.log,
      idempotency: options.idempotency,
    });
  }

  /** Gives the idempotency layer the invocation's remaining time (for in-progress records). */
  registerLambdaContext(context: Context): void {
    this.step.registerLambdaContext(context);
  }

  /**
   * Rejects `record` for `error` (see the class). Throws when the dead-letter queue, KMS or the
   * idempotency table fails: the caller reports the record as failed, and the retry is safe.
   */
  async reject(
    record: SQSRecord,
    error: Pick<PrivacyOpsError, 'reason' | 'message'>,
    raw: unknown,
  ): Promise<RejectionOutcome> {
    const { actor, deadLetters, pseudonyms } = this.options;
    const key = rejectionKeyOf(record.body);
    // One id per rejected body: a record logged twice (see the class) is recognisably the same.
    const recordId = createHash('sha256')
      .update(`${actor}-rejection:${key.bodySha256}`)
      .digest('hex')
      .slice(0, 32);
    const outcome = await this.step.run(key, async () => {
      const entry = await rejectionRecord(raw, error.reason, pseudonyms, recordId);
      await deadLetters.reject(record, error.reason, error.message, actor);
      return [entry];
    });
    return { deadLettered: !outcome.replay, logged: outcome.logged };
  }
}
