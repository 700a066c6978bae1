import { HttpResponse } from '@smithy/protocol-http';
import type {
  DeserializeHandlerOptions,
  FinalizeRequestHandlerOptions,
  HandlerExecutionContext,
  InitializeHandlerOptions,
  MiddlewareStack,
  Pluggable,
} from '@smithy/types';
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { LocalRuntime } from './runtime';

// Instrumentation for benchmarks and the fault-injection suite, never loaded in Lambda. Both
// plugins are registered with `registerClientPlugin` (shared/aws/client-config.ts) BEFORE the
// handler modules are first required, so every client the factories and the local pollers build
// carries them. Calls are attributed to a scope: the function whose invocation made them (see
// `instrumentRuntime`), `poller:<function>` for the local event source mappings, or `unscoped`.

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyStack = MiddlewareStack<any, any>;

/** The invocation (or harness activity) SDK calls are attributed to. */
export interface CallScope {
  /** Function key (`intake`, `document-upload`…), `harness`, or another label. */
  readonly name: string;
  /** Calls made so far in this scope, by `Service.Operation` (for crash triggers). */
  readonly calls: Map<string, number>;
  /** Set when an injected crash fired in this scope: every later call fails. */
  crashed?: boolean;
}

const scopes = new AsyncLocalStorage<CallScope>();
/** Queue URL or stream ARN → function key, for calls the local pollers make. */
const pollerSources = new Map<string, string>();

/** Runs `fn` with its SDK calls attributed to `name` (e.g. `harness` for test-driver calls). */
export function inScope<T>(name: string, fn: () => T): T {
  return scopes.run({ name, calls: new Map() }, fn);
}

/** The scope of the code running now, if any. */
export function currentScope(): CallScope | undefined {
  return scopes.getStore();
}

/** Raised by an injected crash: the invocation dies (the batch is redelivered). */
export class InjectedCrashError extends Error {
  constructor(message = 'injected crash') {
    super(message);
    this.name = 'InjectedCrashError';
  }
}

const functionKeyOf = (entry: string): string => entry.replace(/^functions\/|\.ts$/g, '');

/** What {@link instrumentRuntime} measures, and how to undo it. */
export interface RuntimeInstrumentation {
  /** Wall time of every invocation, by function key, in milliseconds. */
  readonly durationsMs: Record<string, number[]>;
  /** Invocations that ran longer than their function's timeout (Lambda would have killed them). */
  readonly overruns: Record<string, number>;
  /** Restores the runtime's own `invoke`. */
  restore(): void;
}

/**
 * Wraps `runtime.invoke` so each invocation runs in a scope named after its function (and is
 * timed), and maps the runtime's queues and streams to their functions so poller calls are
 * attributed too. An invocation in which an injected crash fired throws, whatever the handler
 * returned: the local runtime then fails the whole batch, as after a real crash.
 */
export function instrumentRuntime(runtime: LocalRuntime): RuntimeInstrumentation {
  for (const m of runtime.mappings) {
    const fn = runtime.functions.get(m.functionLogicalId);
    if (fn) pollerSources.set(m.source, functionKeyOf(fn.entry));
  }
  const durationsMs: Record<string, number[]> = {};
  const overruns: Record<string, number> = {};
  const original = runtime.invoke;
  const wrapped = async (ref: string, event: unknown): Promise<unknown> => {
    const fn = runtime.findFunction(ref);
    const scope: CallScope = { name: functionKeyOf(fn.entry), calls: new Map() };
    return scopes.run(scope, async () => {
      const started = performance.now();
      let result: unknown;
      try {
        result = await original.call(runtime, ref, event);
      } catch (error) {
        if (scope.crashed) throw new InjectedCrashError('injected crash: invocation died');
        throw error;
      } finally {
        const ms = performance.now() - started;
        (durationsMs[scope.name] ??= []).push(ms);
        if (ms > fn.timeoutSeconds * 1000) overruns[scope.name] = (overruns[scope.name] ?? 0) + 1;
      }
      if (scope.crashed) throw new InjectedCrashError('injected crash: invocation died');
      return result;
    });
  };
  runtime.invoke = wrapped;
  return {
    durationsMs,
    overruns,
    restore: () => {
      if (runtime.invoke === wrapped) runtime.invoke = original;
    },
  };
}

/** The p-quantile (0..1) of a list of numbers (nearest rank), 0 when empty. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** One SDK call as the instrumentation sees it. */
export interface CallInfo {
  /** `S3`, `DynamoDB`, `KMS`, `SQS`, `DynamoDBStreams`. */
  readonly service: string;
  /** `PutObject`, `PutItem`… */
  readonly operation: string;
  /** Scope name (function key, `poller:<function>`, `harness`, `unscoped`). */
  readonly scope: string;
  /** The command input (read only). */
  readonly input: Record<string, unknown>;
  /** True when the call runs inside a function invocation (not a poller, not the harness). */
  readonly inHandler: boolean;
}

function callInfo(context: HandlerExecutionContext, input: unknown): CallInfo {
  const service = String(context.clientName ?? 'Unknown')
    .replace(/DocumentClient$/, '')
    .replace(/Client$/, '');
  const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
  const args = (input ?? {}) as Record<string, unknown>;
  const store = scopes.getStore();
  let scope = store?.name;
  if (!scope) {
    const source = (args.QueueUrl ?? args.StreamArn) as string | undefined;
    const owner = source ? pollerSources.get(source) : undefined;
    scope = owner ? `poller:${owner}` : 'unscoped';
  }
  const inHandler = store !== undefined && store.name !== 'harness';
  return { service, operation, scope, input: args, inHandler };
}

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

/** Approximate stored size of a DynamoDB item (native or marshalled), per the size rules. */
export function itemSizeBytes(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'bigint') return 8;
  if (typeof value === 'boolean') return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((n: number, v) => n + itemSizeBytes(v), 3);
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + 1 + itemSizeBytes(v), 3);
  if (typeof value === 'object') {
    let n = 3;
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      n += Buffer.byteLength(k, 'utf8') + itemSizeBytes(v);
    return n;
  }
  return 8;
}

const kb = (bytes: number, unit: number) => Math.max(1, Math.ceil(bytes / unit));

/**
 * DynamoDB on-demand units of one successful call, estimated from its input and output: writes
 * 1 WRU per KB of item (Put: the item; Update: key plus the values it sets; Delete: 1),
 * transactions twice that per item (condition checks included); reads 1 RRU per 4 KB when
 * strongly consistent, half otherwise, transactional twice.
 */
export function dynamoUnits(
  operation: string,
  input: Record<string, any>,
  output: Record<string, any> | undefined,
): { writeUnits: number; readUnits: number } {
  const consistent = (i: Record<string, any>) => (i.ConsistentRead ? 1 : 0.5);
  switch (operation) {
    case 'PutItem':
      return { writeUnits: kb(itemSizeBytes(input.Item), 1024), readUnits: 0 };
    case 'UpdateItem':
      return {
        writeUnits: kb(
          itemSizeBytes(input.Key) + itemSizeBytes(input.ExpressionAttributeValues),
          1024,
        ),
        readUnits: 0,
      };
    case 'DeleteItem':
      return { writeUnits: 1, readUnits: 0 };
    case 'TransactWriteItems': {
      let units = 0;
      for (const t of (input.TransactItems ?? []) as Record<string, any>[]) {
        if (t.Put) units += 2 * kb(itemSizeBytes(t.Put.Item), 1024);
        else if (t.Update)
          units +=
            2 *
            kb(
              itemSizeBytes(t.Update.Key) + itemSizeBytes(t.Update.ExpressionAttributeValues),
              1024,
            );
        else units += 2;
      }
      return { writeUnits: units, readUnits: 0 };
    }
    case 'BatchWriteItem': {
      let units = 0;
      for (const requests of Object.values((input.RequestItems ?? {}) as Record<string, any[]>))
        for (const r of requests)
          units += r.PutRequest ? kb(itemSizeBytes(r.PutRequest.Item), 1024) : 1;
      return { writeUnits: units, readUnits: 0 };
    }
    case 'GetItem':
      return {
        writeUnits: 0,
        readUnits: kb(itemSizeBytes(output?.Item ?? {}), 4096) * consistent(input),
      };
    case 'Query':
    case 'Scan': {
      const bytes = ((output?.Items ?? []) as unknown[]).reduce(
        (n: number, item) => n + itemSizeBytes(item),
        0,
      );
      return { writeUnits: 0, readUnits: kb(bytes, 4096) * consistent(input) };
    }
    case 'TransactGetItems':
      return { writeUnits: 0, readUnits: 2 * ((input.TransactItems ?? []) as unknown[]).length };
    case 'BatchGetItem': {
      let n = 0;
      for (const t of Object.values((output?.Responses ?? {}) as Record<string, unknown[]>))
        n += t.length;
      return { writeUnits: 0, readUnits: n * 0.5 };
    }
    default:
      return { writeUnits: 0, readUnits: 0 };
  }
}

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
          if (!context.__privacyOpsInjectedBefore) {
            const count = this.entry(callInfo(context, args.input));
            count.endpointMs += performance.now() - started;
          }
          context.__privacyOpsInjectedBefore = false;
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

/** Kinds of injected faults. */
export type FaultKind = 'throttling' | 'server-error' | 'timeout';

/** When a fault is injected: instead of the call, or after it (the effect happened, the answer is lost). */
export type FaultTiming = 'before' | 'after';

/** A deterministic PRNG (mulberry32): same seed, same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  private readonly crashes: CrashTrigger[] = [];
  private crashIds = new Map<CrashTrigger, number>();
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
   * invocation (the process is dead). Each armed trigger fires once.
   */
  crashOnce(trigger: CrashTrigger): void {
    this.crashIds.set(trigger, this.crashIds.size);
    this.crashes.push(trigger);
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
        context.__privacyOpsInjectedBefore = false;
        this.stats.attemptsSeen += 1;
        const scope = scopes.getStore();
        if (scope) {
          const op = `${info.service}.${info.operation}`;
          scope.calls.set(op, (scope.calls.get(op) ?? 0) + 1);
          if (scope.crashed) {
            context.__privacyOpsInjectedBefore = true;
            throw new InjectedCrashError();
          }
          for (const [i, crash] of this.crashes.entries()) {
            if (!crash.match(info)) continue;
            const key = `__crash${this.crashIds.get(crash)}`;
            const n = (scope.calls.get(key) ?? 0) + 1;
            scope.calls.set(key, n);
            if (n < crash.nth) continue;
            this.crashes.splice(i, 1);
            scope.crashed = true;
            this.stats.crashes += 1;
            crash.onCrash?.(info);
            context.__privacyOpsInjectedBefore = true;
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
          context.__privacyOpsInjectedBefore = true;
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
