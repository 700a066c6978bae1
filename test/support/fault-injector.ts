import { HttpResponse } from '@smithy/protocol-http';
import type {
  DeserializeHandlerOptions,
  HandlerExecutionContext,
  MiddlewareStack,
  Pluggable,
} from '@smithy/types';
import type { SdkCallCounter } from './call-counter';
import {
  callInfo,
  currentScope,
  INJECTED_BEFORE_CALL,
  InjectedCrashError,
  type CallInfo,
} from './call-scopes';
import { seededRandom } from './prng';

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyStack = MiddlewareStack<any, any>;

/** Kinds of injected faults. */
export type FaultKind = 'throttling' | 'server-error' | 'timeout';

/** When a fault is injected: instead of the call, or after it (the effect happened, the answer is lost). */
export type FaultTiming = 'before' | 'after';

/** Options of a {@link FaultInjector}. */
export interface FaultInjectorOptions {
  /** Probability that an attempt fails. @default 0 */
  readonly probability?: number;
  /** Seed of the PRNG. @default 7 */
  readonly seed?: number;
  /** Share of faults injected after the real call (effect done, answer lost). @default 0.3 */
  readonly afterCallShare?: number;
  /** Relative weights of the kinds. @default throttling 0.4, server-error 0.4, timeout 0.2 */
  readonly weights?: Readonly<Record<FaultKind, number>>;
  /** Which calls may fail. @default calls made inside a function invocation */
  readonly appliesTo?: (call: CallInfo) => boolean;
  /** Counter to tell which attempts never reached the endpoint. */
  readonly counter?: SdkCallCounter;
}

/** A crash trigger: the `nth` call matching `match` within one invocation kills that invocation. */
export interface CrashTrigger {
  readonly match: (call: CallInfo) => boolean;
  readonly nth: number;
  /** Called when the crash fires. */
  readonly onCrash?: (call: CallInfo) => void;
}

/** What the injector did, by kind, timing and `Service.Operation`. */
export interface FaultStats {
  attemptsSeen: number;
  injected: number;
  byKind: Record<FaultKind, number>;
  byTiming: Record<FaultTiming, number>;
  byOperation: Record<string, number>;
  crashes: number;
}

const JSON_PROTOCOL_SERVICES: Record<
  string,
  { prefix: string; contentType: string; throttle: string }
> = {
  DynamoDB: {
    prefix: 'com.amazonaws.dynamodb.v20120810#',
    contentType: 'application/x-amz-json-1.0',
    throttle: 'ProvisionedThroughputExceededException',
  },
  DynamoDBStreams: {
    prefix: 'com.amazonaws.dynamodb.v20120810#',
    contentType: 'application/x-amz-json-1.0',
    throttle: 'ThrottlingException',
  },
  KMS: {
    prefix: 'com.amazonaws.kms#',
    contentType: 'application/x-amz-json-1.1',
    throttle: 'ThrottlingException',
  },
  SQS: {
    prefix: 'com.amazonaws.sqs#',
    contentType: 'application/x-amz-json-1.0',
    throttle: 'ThrottlingException',
  },
};

/** The synthetic HTTP answer of a fault (timeouts are thrown, not answered). */
export function syntheticErrorResponse(
  service: string,
  kind: Exclude<FaultKind, 'timeout'>,
): HttpResponse {
  if (service === 'S3') {
    const [status, code] = kind === 'throttling' ? [503, 'SlowDown'] : [500, 'InternalError'];
    return new HttpResponse({
      statusCode: status,
      headers: { 'content-type': 'application/xml', 'x-amz-request-id': 'injected' },
      body: Buffer.from(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message><RequestId>injected</RequestId></Error>`,
      ),
    });
  }
  const protocol = JSON_PROTOCOL_SERVICES[service] ?? JSON_PROTOCOL_SERVICES.KMS;
  const [status, code] =
    kind === 'throttling' ? [400, protocol.throttle] : [500, 'InternalFailure'];
  return new HttpResponse({
    statusCode: status,
    headers: {
      'content-type': protocol.contentType,
      'x-amzn-errortype': code,
      'x-amzn-requestid': 'injected',
    },
    body: Buffer.from(JSON.stringify({ __type: `${protocol.prefix}${code}`, message: 'injected' })),
  });
}

function injectedTimeout(): Error {
  const error = new Error('injected timeout');
  error.name = 'TimeoutError';
  return error;
}

function drain(response: unknown): void {
  const body = (response as { body?: { resume?: () => void } } | undefined)?.body;
  try {
    body?.resume?.();
  } catch {
    // nothing to drain
  }
}

/**
 * Injects transient faults into AWS SDK calls, in the deserialize step right after the SDK's
 * deserializer, so the SDK parses them into real service errors and its own retry strategy runs.
 * With probability p an attempt gets, instead of (or after) the real call, a throttling error
 * (DynamoDB ProvisionedThroughputExceededException, S3 503 SlowDown, ThrottlingException
 * elsewhere), a 500 (InternalError / InternalFailure) or a TimeoutError. Faults after the call
 * let the effect happen and lose the answer, so the SDK sends it again: that is what tests
 * idempotency. Deterministic for a seed. Also fires crash triggers (see {@link crashOnce}).
 */
export class FaultInjector implements Pluggable<any, any> {
  private probability: number;
  private readonly random: () => number;
  private readonly afterCallShare: number;
  private readonly weights: Readonly<Record<FaultKind, number>>;
  private readonly appliesTo: (call: CallInfo) => boolean;
  private readonly planned: Array<{
    kind: FaultKind;
    timing: FaultTiming;
    match?: (c: CallInfo) => boolean;
  }> = [];
  /** The armed crash triggers, each with the key its matching calls are counted under. */
  private readonly crashes: Array<{ readonly trigger: CrashTrigger; readonly key: string }> = [];
  private crashesArmed = 0;
  /** What was injected so far. */
  readonly stats: FaultStats = {
    attemptsSeen: 0,
    injected: 0,
    byKind: { throttling: 0, 'server-error': 0, timeout: 0 },
    byTiming: { before: 0, after: 0 },
    byOperation: {},
    crashes: 0,
  };

  constructor(private readonly options: FaultInjectorOptions = {}) {
    this.probability = options.probability ?? 0;
    this.random = seededRandom(options.seed ?? 7);
    this.afterCallShare = options.afterCallShare ?? 0.3;
    this.weights = options.weights ?? { throttling: 0.4, 'server-error': 0.4, timeout: 0.2 };
    this.appliesTo = options.appliesTo ?? ((c) => c.inHandler);
  }

  /** Changes the probability of a fault per attempt (0 turns random faults off). */
  setProbability(p: number): void {
    this.probability = p;
  }

  /** Fails the next `count` matching attempts with `kind`, before random faults are drawn. */
  failNext(
    count: number,
    kind: FaultKind,
    timing: FaultTiming = 'before',
    match?: (call: CallInfo) => boolean,
  ): void {
    for (let i = 0; i < count; i += 1) this.planned.push({ kind, timing, match });
  }

  /**
   * Arms a crash: within one invocation, the `nth` call matching the trigger throws
   * {@link InjectedCrashError} before reaching the endpoint, and so does every later call of that
   * invocation (the process is dead). Each armed trigger fires once. The injector keeps a trigger
   * only while it is armed (a trigger may close over the whole invocation it kills): once it
   * fired, or once the returned function disarmed it, nothing of it stays reachable from here.
   */
  crashOnce(trigger: CrashTrigger): () => void {
    let armed: (typeof this.crashes)[number] | undefined = {
      trigger,
      key: `__crash${this.crashesArmed}`,
    };
    this.crashesArmed += 1;
    this.crashes.push(armed);
    return () => {
      const i = armed ? this.crashes.indexOf(armed) : -1;
      if (i >= 0) this.crashes.splice(i, 1);
      armed = undefined;
    };
  }

  private pick(): FaultKind {
    const total = this.weights.throttling + this.weights['server-error'] + this.weights.timeout;
    let r = this.random() * total;
    for (const kind of ['throttling', 'server-error', 'timeout'] as FaultKind[]) {
      r -= this.weights[kind];
      if (r < 0) return kind;
    }
    return 'timeout';
  }

  private decide(info: CallInfo): { kind: FaultKind; timing: FaultTiming } | undefined {
    const i = this.planned.findIndex((p) => !p.match || p.match(info));
    if (i >= 0) return this.planned.splice(i, 1)[0];
    if (this.probability <= 0 || !this.appliesTo(info)) return undefined;
    if (this.random() >= this.probability) return undefined;
    return { kind: this.pick(), timing: this.random() < this.afterCallShare ? 'after' : 'before' };
  }

  private note(info: CallInfo, fault: { kind: FaultKind; timing: FaultTiming }): void {
    this.stats.injected += 1;
    this.stats.byKind[fault.kind] += 1;
    this.stats.byTiming[fault.timing] += 1;
    const op = `${info.service}.${info.operation}`;
    this.stats.byOperation[op] = (this.stats.byOperation[op] ?? 0) + 1;
  }

  /** Adds the injecting middleware to a client's stack. */
  applyToStack(stack: AnyStack): void {
    stack.addRelativeTo(
      (next: any, context: HandlerExecutionContext) => async (args: any) => {
        const info = callInfo(context, args.input);
        // Set below when this attempt is answered without reaching the endpoint.
        context[INJECTED_BEFORE_CALL] = false;
        this.stats.attemptsSeen += 1;
        const scope = currentScope();
        if (scope) {
          const op = `${info.service}.${info.operation}`;
          scope.calls.set(op, (scope.calls.get(op) ?? 0) + 1);
          if (scope.crashed) {
            context[INJECTED_BEFORE_CALL] = true;
            throw new InjectedCrashError();
          }
          for (const [i, { trigger: crash, key }] of this.crashes.entries()) {
            if (!crash.match(info)) continue;
            const n = (scope.calls.get(key) ?? 0) + 1;
            scope.calls.set(key, n);
            if (n < crash.nth) continue;
            this.crashes.splice(i, 1);
            scope.crashed = true;
            this.stats.crashes += 1;
            crash.onCrash?.(info);
            context[INJECTED_BEFORE_CALL] = true;
            throw new InjectedCrashError();
          }
        }
        const fault = this.decide(info);
        if (!fault) return next(args);
        this.note(info, fault);
        if (fault.timing === 'after') {
          const real = await next(args);
          drain(real?.response);
        } else {
          context[INJECTED_BEFORE_CALL] = true;
          this.options.counter?.noteInjectedBeforeCall(info);
        }
        if (fault.kind === 'timeout') throw injectedTimeout();
        return { response: syntheticErrorResponse(info.service, fault.kind) };
      },
      {
        relation: 'after',
        toMiddleware: 'deserializerMiddleware',
        name: 'privacyOpsFaultInjector',
        override: true,
      } as DeserializeHandlerOptions & { relation: 'after'; toMiddleware: string },
    );
  }
}
