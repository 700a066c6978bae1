import type {
  DeserializeHandlerOptions,
  FinalizeRequestHandlerOptions,
  HandlerExecutionContext,
  InitializeHandlerOptions,
  MiddlewareStack,
  Pluggable,
} from '@smithy/types';
import { performance } from 'node:perf_hooks';
import { callInfo, INJECTED_BEFORE_CALL, type CallInfo } from './call-scopes';
import { dynamoUnits } from './dynamodb-units';

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyStack = MiddlewareStack<any, any>;

/** Counts of one `Service.Operation` in one scope. */
export interface CallCount {
  /** Attempts that left the SDK's retry loop (each retry counts: billed). */
  attempts: number;
  /** Calls as the application made them (one per `send`, whatever the retries). */
  calls: number;
  /** Calls that ended in an error after the SDK's retries. */
  failedCalls: number;
  /** Of `attempts`, those a fault injector answered without reaching the endpoint. */
  injectedBeforeCall: number;
  /** Milliseconds spent awaiting the endpoint (attempts that reached it). */
  endpointMs: number;
  /** Estimated DynamoDB write / read request units (on-demand), 0 for other services. */
  writeUnits: number;
  readUnits: number;
  /** SQS ReceiveMessage calls that returned no message. */
  emptyReceives: number;
  /** Messages returned by ReceiveMessage / sent by Send* (SQS). */
  messages: number;
}

/** Snapshot of the counter: scope → `Service.Operation` → counts. */
export type CallCounts = Record<string, Record<string, CallCount>>;

const zero = (): CallCount => ({
  attempts: 0,
  calls: 0,
  failedCalls: 0,
  injectedBeforeCall: 0,
  endpointMs: 0,
  writeUnits: 0,
  readUnits: 0,
  emptyReceives: 0,
  messages: 0,
});

/**
 * Counts AWS SDK calls by scope and `Service.Operation`: every attempt (retries included, as
 * they are billed), the application-level calls, the time spent awaiting the endpoint, DynamoDB
 * request units and SQS message counts. A Pluggable for `registerClientPlugin`.
 */
export class SdkCallCounter implements Pluggable<any, any> {
  private counts: CallCounts = {};

  /**
   * @param resourceOf names the resource a call is about (`log`, `vault`, `idempotency`…), which
   * is appended to its key (`S3.PutObject log`); undefined leaves the key as it is.
   */
  constructor(private readonly resourceOf?: (call: CallInfo) => string | undefined) {}

  private entry(info: CallInfo): CallCount {
    const byScope = (this.counts[info.scope] ??= {});
    const resource = this.resourceOf?.(info);
    const key = `${info.service}.${info.operation}${resource ? ` ${resource}` : ''}`;
    return (byScope[key] ??= zero());
  }

  /** Adds the counting middleware to a client's stack. */
  applyToStack(stack: AnyStack): void {
    // Outermost: one per application call; sees the parsed output (units, message counts).
    stack.add(
      (next: any, context: HandlerExecutionContext) => async (args: any) => {
        const info = callInfo(context, args.input);
        const count = this.entry(info);
        count.calls += 1;
        try {
          const result = await next(args);
          const output = result?.output as Record<string, any> | undefined;
          if (info.service === 'DynamoDB') {
            const units = dynamoUnits(info.operation, args.input ?? {}, output);
            count.writeUnits += units.writeUnits;
            count.readUnits += units.readUnits;
          }
          if (info.service === 'SQS') {
            if (info.operation === 'ReceiveMessage') {
              const n = (output?.Messages ?? []).length;
              count.messages += n;
              if (n === 0) count.emptyReceives += 1;
            } else if (info.operation === 'SendMessageBatch') {
              count.messages += (output?.Successful ?? []).length;
            } else if (info.operation === 'SendMessage') count.messages += 1;
          }
          return result;
        } catch (error) {
          count.failedCalls += 1;
          throw error;
        }
      },
      {
        step: 'initialize',
        priority: 'high',
        name: 'privacyOpsCallCounter',
        override: true,
      } as InitializeHandlerOptions,
    );
    // Inside the retry loop: one per attempt.
    stack.add(
      (next: any, context: HandlerExecutionContext) => async (args: any) => {
        const count = this.entry(callInfo(context, args.input));
        count.attempts += 1;
        return next(args);
      },
      {
        step: 'finalizeRequest',
        priority: 'low',
        name: 'privacyOpsAttemptCounter',
        override: true,
      } as FinalizeRequestHandlerOptions,
    );
    // Closest to the wire: time awaiting the endpoint (not the injected answers).
    stack.addRelativeTo(
      (next: any, context: HandlerExecutionContext) => async (args: any) => {
        const started = performance.now();
        try {
          return await next(args);
        } finally {
          if (!context[INJECTED_BEFORE_CALL]) {
            const count = this.entry(callInfo(context, args.input));
            count.endpointMs += performance.now() - started;
          }
          context[INJECTED_BEFORE_CALL] = false;
        }
      },
      {
        relation: 'after',
        toMiddleware: 'deserializerMiddleware',
        name: 'privacyOpsEndpointTimer',
        override: true,
      } as DeserializeHandlerOptions & { relation: 'after'; toMiddleware: string },
    );
  }

  /** Records an attempt the fault injector answered itself (it never reached the endpoint). */
  noteInjectedBeforeCall(info: CallInfo): void {
    this.entry(info).injectedBeforeCall += 1;
  }

  /** A deep copy of the counts so far. */
  snapshot(): CallCounts {
    return JSON.parse(JSON.stringify(this.counts)) as CallCounts;
  }

  /** Forgets every count. */
  reset(): void {
    this.counts = {};
  }
}

/** Sums counts over scopes (optionally only those `keep` accepts), by `Service.Operation`. */
export function totalsByOperation(
  counts: CallCounts,
  keep: (scope: string) => boolean = () => true,
): Record<string, CallCount> {
  const totals: Record<string, CallCount> = {};
  for (const [scope, byOp] of Object.entries(counts)) {
    if (!keep(scope)) continue;
    for (const [op, c] of Object.entries(byOp)) {
      const t = (totals[op] ??= zero());
      for (const k of Object.keys(c) as (keyof CallCount)[]) t[k] += c[k];
    }
  }
  return totals;
}

/** The difference of two snapshots (`after - before`). */
export function diffCounts(after: CallCounts, before: CallCounts): CallCounts {
  const out: CallCounts = {};
  for (const [scope, byOp] of Object.entries(after)) {
    for (const [op, c] of Object.entries(byOp)) {
      const b = before[scope]?.[op] ?? zero();
      const d = zero();
      let any = false;
      for (const k of Object.keys(c) as (keyof CallCount)[]) {
        d[k] = c[k] - b[k];
        if (d[k] !== 0) any = true;
      }
      if (any) (out[scope] ??= {})[op] = d;
    }
  }
  return out;
}
