import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { withPlugins } from '../shared/aws/client-config';
import { localClientOptions } from './client-options';
import { bundleFunction, loadFunctionModule } from './function-bundle';
import { localFunctionEnvironment } from './function-environment';
import { InstancePool, type FunctionInstance } from './instance-pool';
import { count, sleep, type PollerContext, type RuntimeStats } from './poller-context';
import type { ProvisionedEnvironment } from './provision';
import { QueuePoller } from './queue-poller';
import { Scheduler } from './scheduler';
import { StreamPoller } from './stream-poller';
import {
  readTemplateModel,
  templateConcurrency,
  type LocalEventSourceMapping,
  type LocalSchedule,
  type TemplateFunction,
} from './template-model';

export type { RuntimeStats } from './poller-context';
export type { LocalEventSourceMapping, LocalSchedule } from './template-model';

/** A Lambda function of the template, as the local runtime runs it. */
export interface LocalFunction extends TemplateFunction {
  /**
   * The environment its instances run with (their `process.env`): the template's variables plus
   * the local AWS settings (see local/function-environment.ts). Code outside the function that
   * needs the function's configuration (a test harness, the demo) reads it here, not in
   * `process.env`, which the runtime leaves alone.
   */
  readonly environment: Readonly<Record<string, string>>;
  /** The most instances that run at once (see {@link LocalRuntimeOptions.instancesPerFunction}). */
  readonly maxInstances: number;
}

/** One invocation, as an invoke hook sees it. */
export interface Invocation {
  readonly fn: LocalFunction;
  /** The event the invocation was made with. */
  readonly event: unknown;
  /** The Lambda context the handler gets. */
  readonly context: Context;
  /** Which instance of the function runs it (0 for the first). */
  readonly instance: number;
}

/**
 * Runs around the handler's own run, once the invocation holds its instance (the wait for a free
 * instance and the module's loading are not inside). `run` runs the next hook, then the handler,
 * with the event given: a hook may time, attribute or fail the run, or hand the handler another
 * event. Whatever it returns or throws is the invocation's response or error.
 */
export type InvokeHook = (
  invocation: Invocation,
  run: (event: unknown) => Promise<unknown>,
) => Promise<unknown>;

/** Options of the local runtime. */
export interface LocalRuntimeOptions {
  readonly log?: (line: string) => void;
  /**
   * Local acceleration: visibility timeout given to a message whose processing failed, instead of
   * waiting for the queue's own timeout. Undefined keeps the queue's timeout (what Lambda does).
   */
  readonly failedMessageVisibilitySeconds?: number;
  /**
   * Pollers per SQS mapping (receive loops). Together they keep up to the function's instances
   * busy with batches; more pollers than instances only overlap receiving with processing.
   * @default 2
   */
  readonly concurrencyPerMapping?: number;
  /** Wait time of each ReceiveMessage long poll, in seconds. @default 1 */
  readonly receiveWaitSeconds?: number;
  /**
   * Instances per function, each with its own module state and environment, each running one
   * invocation at a time: a number, or `'template'` for what the template allows (the queue
   * mapping's `ScalingConfig.MaximumConcurrency`, capped by the reserved concurrency).
   * @default 1 (invocations of a function are serialized)
   */
  readonly instancesPerFunction?: number | 'template';
  /**
   * Run the template's rate schedules (the checkpointer every 5 minutes, the sweep hourly). Tests
   * turn them off and invoke scheduled functions themselves, so no run lands mid-test.
   * @default true
   */
  readonly schedules?: boolean;
  /**
   * New values for variables the template gives a function, by function (entry name, logical id
   * or physical name): what a deployment with other settings (CDK context) would set. A variable
   * the template does not give that function is refused: a function reads nothing undeclared.
   * @default none
   */
  readonly variables?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** The Lambda context of one invocation that starts now. */
function lambdaContext(fn: LocalFunction, requestId: string): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, fn.timeoutSeconds * 1000 - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Runs the template's Lambda handlers in-process against the local endpoint, fed by pollers
 * that follow the template's event source mappings (batch size, batching window, partial batch
 * responses, queue visibility timeout and redrive) and its rate schedules. Each function instance
 * is the function's bundle (as Lambda runs it) loaded on its own, with its own environment and
 * module state; `process.env` of the host is never changed.
 */
export class LocalRuntime {
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly mappings: readonly LocalEventSourceMapping[];
  readonly schedules: readonly LocalSchedule[];
  readonly stats: RuntimeStats = {
    invocations: {},
    errors: {},
    failedItems: {},
    deliveredRecords: {},
  };

  private readonly pools = new Map<string, InstancePool>();
  private readonly hooks: InvokeHook[] = [];
  private readonly sqs: SQSClient;
  private readonly streams: DynamoDBStreamsClient;
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly streamPollers: StreamPoller[] = [];
  private scheduler?: Scheduler;
  private inFlight = 0;
  private readonly log: (line: string) => void;

  constructor(
    readonly environment: ProvisionedEnvironment,
    private readonly options: LocalRuntimeOptions = {},
  ) {
    this.log = options.log ?? (() => undefined);
    const model = readTemplateModel(environment);
    const perFunction = options.instancesPerFunction ?? 1;
    const aws = { endpoint: environment.endpoint, region: environment.region };
    const functions = new Map<string, LocalFunction>();
    for (const [logicalId, fn] of model.functions)
      functions.set(logicalId, {
        ...fn,
        environment: localFunctionEnvironment(fn.variables, aws),
        maxInstances: perFunction === 'template' ? templateConcurrency(fn, model) : perFunction,
      });
    this.functions = functions;
    for (const [ref, values] of Object.entries(options.variables ?? {})) {
      const fn = this.findFunction(ref);
      for (const name of Object.keys(values))
        if (!(name in fn.variables))
          throw new Error(`${fn.entry} has no variable ${name} in the template to set`);
      functions.set(fn.logicalId, { ...fn, environment: { ...fn.environment, ...values } });
    }
    this.mappings = model.mappings;
    this.schedules = model.schedules;
    const clientOptions = localClientOptions(environment.endpoint, environment.region);
    // The pollers' calls are billed like Lambda's own polling: counted by the same plugins.
    this.sqs = withPlugins(new SQSClient(clientOptions));
    this.streams = withPlugins(new DynamoDBStreamsClient(clientOptions));
  }

  /** Finds a function by logical id, physical name, or entry (`functions/intake.ts` or `intake`). */
  findFunction(ref: string): LocalFunction {
    for (const f of this.functions.values()) {
      if (f.logicalId === ref || f.name === ref || f.entry === ref || f.key === ref) return f;
    }
    throw new Error(
      `No function ${ref} in the template (have: ${[...this.functions.values()].map((f) => f.entry).join(', ')})`,
    );
  }

  /**
   * Adds a hook around every handler run from now on (see {@link InvokeHook}); hooks added first
   * run outermost. Returns a function that removes it.
   */
  onInvoke(hook: InvokeHook): () => void {
    this.hooks.push(hook);
    return () => {
      const i = this.hooks.indexOf(hook);
      if (i >= 0) this.hooks.splice(i, 1);
    };
  }

  /**
   * Invokes a function once with `event`, as Lambda would, and returns its response: on an idle
   * instance of the function, or a new one while fewer than its maximum exist, or the first one
   * to become free.
   */
  async invoke(ref: string, event: unknown): Promise<unknown> {
    const fn = this.findFunction(ref);
    count(this.stats.invocations, fn.key);
    this.inFlight += 1;
    try {
      const pool = this.poolOf(fn);
      const instance = await pool.acquire();
      try {
        return await this.run(fn, instance, event);
      } finally {
        pool.release(instance);
      }
    } catch (error) {
      count(this.stats.errors, fn.key);
      throw error;
    } finally {
      this.inFlight -= 1;
    }
  }

  private run(fn: LocalFunction, instance: FunctionInstance, event: unknown): Promise<unknown> {
    const context = lambdaContext(fn, randomUUID());
    const run = this.hooks.reduceRight<(event: unknown) => Promise<unknown>>(
      (next, hook) => (e) => hook({ fn, event: e, context, instance: instance.index }, next),
      (e) => instance.handler(e, context),
    );
    return run(event);
  }

  private poolOf(fn: LocalFunction): InstancePool {
    let pool = this.pools.get(fn.logicalId);
    if (!pool) {
      pool = new InstancePool(fn.maxInstances, (index) => this.loadInstance(fn, index));
      this.pools.set(fn.logicalId, pool);
    }
    return pool;
  }

  /** Loads one instance: the function's bundle evaluated afresh with its own copy of its env. */
  private async loadInstance(fn: LocalFunction, index: number): Promise<FunctionInstance> {
    const entries = [...this.functions.values()].map((f) => f.entry);
    const bundle = await bundleFunction(fn.entry, entries);
    return { index, ...loadFunctionModule(bundle, { ...fn.environment }) };
  }

  private pollerContext(): PollerContext {
    return {
      region: this.environment.region,
      stats: this.stats,
      log: this.log,
      isRunning: () => this.running,
      invoke: (fn, event) => this.invoke(fn.logicalId, event),
    };
  }

  /** Starts every poller and schedule. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const context = this.pollerContext();
    for (const m of this.mappings) {
      const fn = this.functions.get(m.functionLogicalId)!;
      if (m.kind === 'sqs') {
        const pollers = this.options.concurrencyPerMapping ?? 2;
        const options = {
          receiveWaitSeconds: this.options.receiveWaitSeconds ?? 1,
          failedMessageVisibilitySeconds: this.options.failedMessageVisibilitySeconds,
          // The pollers together keep as many batches running as the function has instances.
          batchesInFlight: Math.max(1, Math.ceil(fn.maxInstances / pollers)),
        };
        for (let i = 0; i < pollers; i += 1)
          this.loops.push(new QueuePoller(context, this.sqs, m, fn, options).run());
      } else {
        const poller = new StreamPoller(context, this.streams, m, fn);
        this.streamPollers.push(poller);
        this.loops.push(poller.run());
      }
      this.log(
        `  ${m.kind === 'sqs' ? 'queue ' : 'stream'} -> ${fn.entry} ` +
          `(batch ${m.batchSize}, window ${m.batchingWindowSeconds}s${m.reportBatchItemFailures ? ', partial batch responses' : ''}${m.filterCriteria ? ', filtered' : ''})`,
      );
    }
    this.scheduler = new Scheduler(
      context,
      this.schedules.map((schedule) => ({
        schedule,
        fn: this.functions.get(schedule.functionLogicalId)!,
      })),
    );
    if (this.options.schedules !== false) this.scheduler.start();
  }

  /** Stops the pollers and schedules and waits for running invocations. */
  async stop(): Promise<void> {
    this.running = false;
    this.scheduler?.stop();
    await Promise.allSettled(this.loops);
    this.loops.length = 0;
    this.streamPollers.length = 0;
    this.sqs.destroy();
    this.streams.destroy();
  }

  /**
   * Waits until every mapped queue is empty (visible and in flight), every stream is caught up and
   * no invocation runs, for three consecutive checks. Throws after `timeoutMs`.
   */
  async waitForIdle(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quietChecks = 0;
    while (Date.now() < deadline) {
      const busy =
        this.inFlight > 0 || this.streamPollers.some((p) => p.busy) || (await this.queuesBusy());
      quietChecks = busy ? 0 : quietChecks + 1;
      if (quietChecks >= 3) return;
      await sleep(200);
    }
    throw new Error(`The pipeline did not become idle within ${timeoutMs} ms`);
  }

  /** Whether any mapped queue holds a message (visible, in flight or delayed). */
  private async queuesBusy(): Promise<boolean> {
    for (const m of this.mappings) {
      if (m.kind !== 'sqs') continue;
      const attrs = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: m.source,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const a = attrs.Attributes ?? {};
      const held =
        Number(a.ApproximateNumberOfMessages ?? 0) +
        Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
      if (held > 0) return true;
    }
    return false;
  }
}
