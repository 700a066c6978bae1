import type { HandlerExecutionContext } from '@smithy/types';
import { AsyncLocalStorage } from 'node:async_hooks';

// Which invocation (or harness activity) an AWS SDK call belongs to. The call counter and the
// fault injector (registered with `registerClientPlugin`, shared/aws/client-config.ts) attribute
// each call to a scope: the function whose invocation made it (see runtime-instrumentation.ts),
// `poller:<function>` for the local event source mappings, a label given to `inScope`, or
// `unscoped`. Benchmarks and tests only: never loaded in Lambda.

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

/** Runs `fn` in `scope` (one function invocation). */
export function inCallScope<T>(scope: CallScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** The scope of the code running now, if any. */
export function currentScope(): CallScope | undefined {
  return scopes.getStore();
}

/** Attributes the calls made about `source` (a queue URL or stream ARN) to `poller:<key>`. */
export function attributePollerCalls(source: string, key: string): void {
  pollerSources.set(source, key);
}

/** Raised by an injected crash: the invocation dies (the batch is redelivered). */
export class InjectedCrashError extends Error {
  constructor(message = 'injected crash') {
    super(message);
    this.name = 'InjectedCrashError';
  }
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

/**
 * Key of the middleware context flag set when a fault injector answered an attempt itself (it
 * never reached the endpoint), so the call counter does not time it as an endpoint wait.
 */
export const INJECTED_BEFORE_CALL = '__privacyOpsInjectedBefore';

/** What a middleware knows of the call it sees. */
export function callInfo(context: HandlerExecutionContext, input: unknown): CallInfo {
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
