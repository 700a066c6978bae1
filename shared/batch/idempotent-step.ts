import type { JSONValue } from '@aws-lambda-powertools/commons/types';
import {
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { writerMayRun } from '../processing-log/log-pointer';
import type { LogEntry, ProcessingLogWriter } from '../processing-log/writer';
import { PermanentError, TransientError } from '../errors';
import type { IdempotencyTable } from './batch-services';
import { ID_REUSED_REASON } from './event-key';

/** How long a processed key is remembered: a redelivery within this window has no effect. */
export const IDEMPOTENCY_WINDOW_SECONDS = 14 * 24 * 3600;

/**
 * What an effect returns: its log entries, and what is to follow it (the next page of a request
 * too large for one invocation), stored with them so that a replay passes on the same thing.
 */
export interface EffectResult<T = unknown> {
  readonly entries: LogEntry[];
  readonly next?: T;
}

/** What the idempotency table stores for one key: the log entries, and where they were meant to go. */
interface StoredResult {
  readonly entries: LogEntry[];
  /** Key of the processing-log object the entries were queued for. */
  readonly logObjectKey: string;
  /** What follows the effect, as it returned it (absent when nothing does). */
  readonly next?: unknown;
  /**
   * When the result was stored (ISO): until the function's timeout its log object may be in
   * flight. Absent from results stored before it was recorded (their run is long over).
   */
  readonly at?: string;
}

/** Raised when a replay finds a result whose log object its first run may still be writing. */
class ResultInFlightError extends TransientError {
  constructor() {
    super('in-flight', 'the same event is being applied by another invocation; retry');
  }
}

/** Options of an {@link IdempotentStep}. */
export interface IdempotentStepOptions {
  /** Idempotency key prefix: the acting function, or what it does (`intake-rejection`). */
  readonly keyPrefix: string;
  /** JMESPath of the key inside the value given to {@link IdempotentStep.run}. */
  readonly eventKeyJmesPath: string;
  /**
   * JMESPath of what must be equal for a second run under the same key to be a replay; when set,
   * the same key with another payload is refused (permanent `id-reused-with-different-payload`).
   * @default no payload check
   */
  readonly payloadJmesPath?: string;
  readonly log: ProcessingLogWriter;
  readonly idempotency: IdempotencyTable;
  /**
   * How long after a result was stored its log object may still be unwritten while its run goes
   * on (the acting function's timeout): a replay within it is retried later, not logged again.
   * @default 0 (a result whose log object is missing is taken for lost at once)
   */
  readonly inFlightMs?: number;
  /** @default the system clock */
  readonly now?: () => Date;
}

/** How one run of a step went. */
export interface StepOutcome {
  /** True when the effect did not run: the key was processed before (duplicate or redelivery). */
  readonly replay: boolean;
  /** True when the entries were queued for this invocation's log object. */
  readonly logged: boolean;
  readonly entries: readonly LogEntry[];
  /** What follows the effect, as its first run returned it (the same on every replay). */
  readonly next?: unknown;
}

/** The entries and what follows, from what an effect returned. */
function asEffectResult(result: LogEntry[] | EffectResult): EffectResult {
  return Array.isArray(result) ? { entries: result } : result;
}

/**
 * Runs an effect once per key (Powertools idempotency on DynamoDB) and gets the log entries it
 * returns into the processing log once:
 *
 * - the first run queues the entries for this invocation's log object, and the stored result
 *   remembers that object's key;
 * - a replay (duplicate delivery, or redelivery after a crash or a failed log write) returns the
 *   stored result without running the effect, and queues its entries again only when the object
 *   they were meant for was never written; the stored result then points at this invocation's
 *   object, so a later duplicate does not log them a third time.
 *
 * So a crash loses no record and a duplicate adds none. Each run keeps its state in its own call,
 * so records of one batch may run concurrently.
 */
export class IdempotentStep<K extends object> {
  private readonly config: IdempotencyConfig;
  private readonly persistence: DynamoDBPersistenceLayer;
  private readonly once: (
    key: K,
    effect: () => Promise<LogEntry[] | EffectResult>,
    run: { computed: boolean },
  ) => Promise<StoredResult>;

  constructor(private readonly options: IdempotentStepOptions) {
    this.config = new IdempotencyConfig({
      eventKeyJmesPath: options.eventKeyJmesPath,
      ...(options.payloadJmesPath ? { payloadValidationJmesPath: options.payloadJmesPath } : {}),
      expiresAfterSeconds: IDEMPOTENCY_WINDOW_SECONDS,
    });
    this.persistence = new DynamoDBPersistenceLayer({
      tableName: options.idempotency.table,
      awsSdkV3Client: options.idempotency.dynamo,
    });
    // `run` is a fresh token per call, outside the key: it tells a computed result from a replay.
    this.once = makeIdempotent(
      async (
        _key: K,
        effect: () => Promise<LogEntry[] | EffectResult>,
        run: { computed: boolean },
      ) => {
        run.computed = true;
        const { entries, next } = asEffectResult(await effect());
        return {
          entries,
          logObjectKey: options.log.objectKey,
          at: (options.now?.() ?? new Date()).toISOString(),
          ...(next ? { next } : {}),
        };
      },
      {
        dataIndexArgument: 0,
        persistenceStore: this.persistence,
        config: this.config,
        keyPrefix: options.keyPrefix,
      },
    );
  }

  /** Gives the idempotency layer the invocation's remaining time (for in-progress records). */
  registerLambdaContext(context: Context): void {
    this.config.registerLambdaContext(context);
  }

  /**
   * Runs `effect` unless `key` was processed before, and queues its entries (see the class).
   * Throws what the effect or the idempotency table throws (a retry is safe), and a permanent
   * `id-reused-with-different-payload` when the key was processed with another payload.
   */
  async run(key: K, effect: () => Promise<LogEntry[] | EffectResult>): Promise<StepOutcome> {
    const { log } = this.options;
    const run = { computed: false };
    const result = await this.once(key, effect, run).catch((error: unknown) => {
      if (error instanceof IdempotencyValidationError)
        throw new PermanentError(ID_REUSED_REASON, 'event key used before with another payload', {
          cause: error,
        });
      throw error;
    });
    const lost =
      !run.computed &&
      result.logObjectKey !== log.objectKey &&
      !(await log.wasWritten(result.logObjectKey));
    if (lost && this.inFlight(result)) throw new ResultInFlightError();
    const logged = run.computed || lost;
    if (logged) for (const entry of result.entries) log.add(entry);
    if (lost) {
      // This invocation now writes them: its object, from now (a third delivery waits for it).
      const at = (this.options.now?.() ?? new Date()).toISOString();
      const moved: StoredResult = { ...result, logObjectKey: log.objectKey, at };
      await this.persistence.saveSuccess(key as JSONValue, moved as unknown as JSONValue);
    }
    return { replay: !run.computed, logged, entries: result.entries, next: result.next };
  }

  /** True when `result`'s run may still be writing its log object (see the options). */
  private inFlight({ logObjectKey, at }: StoredResult): boolean {
    const { inFlightMs = 0, now } = this.options;
    return (
      at !== undefined && writerMayRun({ logObjectKey, at }, now?.() ?? new Date(), inFlightMs)
    );
  }
}
