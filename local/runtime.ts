import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { ENTRY_METADATA_KEY } from '../infra/constructs/pipeline-function';
import { withPlugins } from '../shared/aws/client-config';
import { passesFilterCriteria } from './event-filter';
import { resolveIntrinsics } from './intrinsics';
import type { ProvisionedEnvironment } from './provision';

const PROJECT_ROOT = path.resolve(__dirname, '..');

/** A Lambda function of the template, as the local runtime runs it. */
export interface LocalFunction {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** Source file relative to the repository root. */
  readonly entry: string;
  readonly environment: Record<string, string>;
  readonly timeoutSeconds: number;
}

/** An event source mapping of the template. */
export interface LocalEventSourceMapping {
  readonly logicalId: string;
  readonly functionLogicalId: string;
  readonly kind: 'sqs' | 'dynamodb-stream';
  readonly sourceArn: string;
  /** Queue URL (sqs) or stream ARN (streams). */
  readonly source: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly filterCriteria?: { Filters?: Array<{ Pattern: string }> };
  readonly startingPosition?: string;
  readonly maximumRetryAttempts?: number;
}

/** A schedule of the template (EventBridge rule with a rate expression). */
export interface LocalSchedule {
  readonly logicalId: string;
  readonly functionLogicalId: string;
  readonly expression: string;
  /** Period in milliseconds, when the expression is a rate; cron expressions are not run locally. */
  readonly periodMs?: number;
  readonly input?: unknown;
}

/** Counters of what the runtime did. */
export interface RuntimeStats {
  invocations: Record<string, number>;
  errors: Record<string, number>;
  failedItems: Record<string, number>;
  deliveredRecords: Record<string, number>;
}

/** Options of the local runtime. */
export interface LocalRuntimeOptions {
  readonly log?: (line: string) => void;
  /**
   * Local acceleration: visibility timeout given to a message whose processing failed, instead of
   * waiting for the queue's own timeout. Undefined keeps the queue's timeout (what Lambda does).
   */
  readonly failedMessageVisibilitySeconds?: number;
  /**
   * Pollers per SQS mapping. Invocations of one function are serialized whatever this is (one
   * local instance per function); more pollers only overlap receiving with processing. @default 2
   */
  readonly concurrencyPerMapping?: number;
  /** Wait time of each ReceiveMessage long poll, in seconds. @default 1 */
  readonly receiveWaitSeconds?: number;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

function parseRate(expression: string): number | undefined {
  const m = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2].startsWith('minute')
    ? 60_000
    : m[2].startsWith('hour')
      ? 3_600_000
      : 86_400_000;
  return n * unit;
}

function toLambdaSqsRecord(message: Message, arn: string, region: string): SQSRecord {
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, attr] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: attr.StringValue,
      binaryValue: attr.BinaryValue ? Buffer.from(attr.BinaryValue).toString('base64') : undefined,
      stringListValues: [],
      binaryListValues: [],
      dataType: attr.DataType ?? 'String',
    };
  }
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: region,
  };
}

function toLambdaStreamRecord(record: StreamRecord, arn: string, region: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    eventSourceARN: arn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
    dynamodb: {
      ApproximateCreationDateTime: d.ApproximateCreationDateTime
        ? Math.floor(new Date(d.ApproximateCreationDateTime).getTime() / 1000)
        : undefined,
      Keys: d.Keys as never,
      NewImage: d.NewImage as never,
      OldImage: d.OldImage as never,
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType as never,
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the template's Lambda handlers in-process against the local endpoint, fed by pollers
 * that follow the template's event source mappings (batch size, batching window, partial batch
 * responses, queue visibility timeout and redrive) and its rate schedules.
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

  private readonly handlers = new Map<string, Handler>();
  private readonly instanceLocks = new Map<string, Promise<void>>();
  private readonly sqs: SQSClient;
  private readonly streams: DynamoDBStreamsClient;
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private inFlight = 0;
  private readonly log: (line: string) => void;
  private readonly streamLag = new Map<string, boolean>();

  constructor(
    readonly environment: ProvisionedEnvironment,
    private readonly options: LocalRuntimeOptions = {},
  ) {
    this.log = options.log ?? (() => undefined);
    const { template, resources, pseudo, endpoint, region } = environment;
    const resolve = (v: unknown) => resolveIntrinsics(v, resources, pseudo);
    const functions = new Map<string, LocalFunction>();
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const entry = resource.Metadata?.[ENTRY_METADATA_KEY];
      if (typeof entry !== 'string') continue; // CDK-internal functions (custom resources) are not ours
      const props = resource.Properties ?? {};
      const vars = ((props.Environment as { Variables?: unknown } | undefined)?.Variables ??
        {}) as Record<string, unknown>;
      const physical = resources.get(logicalId)!;
      functions.set(logicalId, {
        logicalId,
        name: physical.ref,
        arn: physical.attributes.Arn,
        entry,
        environment: Object.fromEntries(
          Object.entries(resolve(vars) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
        ),
        timeoutSeconds: Number(props.Timeout ?? 3),
      });
    }
    this.functions = functions;

    const byArn = new Map<
      string,
      { logicalId: string; kind: 'sqs' | 'dynamodb-stream'; source: string }
    >();
    for (const [logicalId, r] of resources) {
      if (r.type === 'AWS::SQS::Queue')
        byArn.set(r.attributes.Arn, { logicalId, kind: 'sqs', source: r.ref });
      if (r.type === 'AWS::DynamoDB::Table' && r.attributes.StreamArn) {
        byArn.set(r.attributes.StreamArn, {
          logicalId,
          kind: 'dynamodb-stream',
          source: r.attributes.StreamArn,
        });
      }
    }
    const functionByRef = (value: unknown): string | undefined => {
      const name = String(resolve(value));
      for (const f of functions.values()) if (f.name === name || f.arn === name) return f.logicalId;
      return undefined;
    };
    const mappings: LocalEventSourceMapping[] = [];
    const schedules: LocalSchedule[] = [];
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const props = resource.Properties ?? {};
      if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
        const sourceArn = String(resolve(props.EventSourceArn));
        const source = byArn.get(sourceArn);
        const functionLogicalId = functionByRef(props.FunctionName);
        if (!source || !functionLogicalId) continue;
        const destination = props.DestinationConfig;
        void destination;
        mappings.push({
          logicalId,
          functionLogicalId,
          kind: source.kind,
          sourceArn,
          source: source.source,
          batchSize: Number(props.BatchSize ?? (source.kind === 'sqs' ? 10 : 100)),
          batchingWindowSeconds: Number(props.MaximumBatchingWindowInSeconds ?? 0),
          reportBatchItemFailures: (
            (props.FunctionResponseTypes as string[] | undefined) ?? []
          ).includes('ReportBatchItemFailures'),
          filterCriteria: props.FilterCriteria as LocalEventSourceMapping['filterCriteria'],
          startingPosition: props.StartingPosition as string | undefined,
          maximumRetryAttempts:
            props.MaximumRetryAttempts === undefined
              ? undefined
              : Number(props.MaximumRetryAttempts),
        });
      }
      if (resource.Type === 'AWS::Events::Rule' && typeof props.ScheduleExpression === 'string') {
        for (const target of (props.Targets as
          Array<{ Arn: unknown; Input?: string }> | undefined) ?? []) {
          const functionLogicalId = functionByRef(target.Arn);
          if (!functionLogicalId) continue;
          schedules.push({
            logicalId,
            functionLogicalId,
            expression: props.ScheduleExpression,
            periodMs: parseRate(props.ScheduleExpression),
            input: target.Input ? JSON.parse(target.Input) : undefined,
          });
        }
      }
      if (resource.Type === 'AWS::Scheduler::Schedule') {
        const target = props.Target as { Arn: unknown; Input?: string } | undefined;
        const functionLogicalId = target ? functionByRef(target.Arn) : undefined;
        if (!functionLogicalId) continue;
        schedules.push({
          logicalId,
          functionLogicalId,
          expression: String(props.ScheduleExpression),
          periodMs: parseRate(String(props.ScheduleExpression)),
          input: target?.Input ? JSON.parse(target.Input) : undefined,
        });
      }
    }
    this.mappings = mappings;
    this.schedules = schedules;

    const clientOptions = {
      endpoint,
      region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
    // The pollers' calls are billed like Lambda's own polling: counted by the same plugins.
    this.sqs = withPlugins(new SQSClient(clientOptions));
    this.streams = withPlugins(new DynamoDBStreamsClient(clientOptions));
    this.applyProcessEnvironment();
  }

  /**
   * Handlers read their configuration from the environment at module load, as in Lambda. All
   * functions run in one process here, so their variables are merged; the same name with two
   * different values would make two functions disagree and is refused.
   */
  private applyProcessEnvironment(): void {
    const merged: Record<string, string> = {};
    for (const f of this.functions.values()) {
      for (const [k, v] of Object.entries(f.environment)) {
        if (k.startsWith('POWERTOOLS_SERVICE_NAME')) continue;
        if (merged[k] !== undefined && merged[k] !== v) {
          throw new Error(
            `Functions disagree on environment variable ${k} ("${merged[k]}" vs "${v}"); the local runtime shares one process`,
          );
        }
        merged[k] = v;
      }
    }
    Object.assign(process.env, merged, {
      AWS_ENDPOINT_URL: this.environment.endpoint,
      AWS_REGION: this.environment.region,
      AWS_DEFAULT_REGION: this.environment.region,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      POWERTOOLS_SERVICE_NAME: 'privacy-ops-local',
      POWERTOOLS_DEV: 'true',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    });
  }

  /** Finds a function by logical id, physical name, or entry (`functions/intake.ts` or `intake`). */
  findFunction(ref: string): LocalFunction {
    for (const f of this.functions.values()) {
      if (
        f.logicalId === ref ||
        f.name === ref ||
        f.entry === ref ||
        f.entry === `functions/${ref}.ts`
      )
        return f;
    }
    throw new Error(
      `No function ${ref} in the template (have: ${[...this.functions.values()].map((f) => f.entry).join(', ')})`,
    );
  }

  private handlerOf(fn: LocalFunction): Handler {
    let handler = this.handlers.get(fn.logicalId);
    if (!handler) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path.join(PROJECT_ROOT, fn.entry)) as { handler?: Handler };
      if (typeof mod.handler !== 'function')
        throw new Error(`${fn.entry} does not export a handler`);
      handler = mod.handler;
      this.handlers.set(fn.logicalId, handler);
    }
    return handler;
  }

  /** Invokes a function once with `event`, as Lambda would, and returns its response. */
  async invoke(ref: string, event: unknown): Promise<unknown> {
    const fn = this.findFunction(ref);
    const handler = this.handlerOf(fn);
    let started = Date.now();
    const requestId = randomUUID();
    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.arn,
      memoryLimitInMB: '512',
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () =>
        Math.max(0, fn.timeoutSeconds * 1000 - (Date.now() - started)),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    const key = fn.entry.replace(/^functions\/|\.ts$/g, '');
    this.stats.invocations[key] = (this.stats.invocations[key] ?? 0) + 1;
    this.inFlight += 1;
    // One module instance per function here, and a Lambda instance runs one invocation at a
    // time: invocations of the same function are serialized so module state is never shared.
    const previous = this.instanceLocks.get(fn.logicalId) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.instanceLocks.set(
      fn.logicalId,
      previous.then(() => mine),
    );
    await previous;
    started = Date.now();
    try {
      return await handler(event, context);
    } catch (error) {
      this.stats.errors[key] = (this.stats.errors[key] ?? 0) + 1;
      throw error;
    } finally {
      release();
      this.inFlight -= 1;
    }
  }

  /** Starts every poller and schedule. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const m of this.mappings) {
      const copies = m.kind === 'sqs' ? (this.options.concurrencyPerMapping ?? 2) : 1;
      for (let i = 0; i < copies; i += 1) {
        this.loops.push(m.kind === 'sqs' ? this.pollQueue(m) : this.pollStream(m));
      }
      this.log(
        `  ${m.kind === 'sqs' ? 'queue ' : 'stream'} -> ${this.functions.get(m.functionLogicalId)!.entry} ` +
          `(batch ${m.batchSize}, window ${m.batchingWindowSeconds}s${m.reportBatchItemFailures ? ', partial batch responses' : ''}${m.filterCriteria ? ', filtered' : ''})`,
      );
    }
    for (const s of this.schedules) {
      const fn = this.functions.get(s.functionLogicalId)!;
      if (s.periodMs === undefined) {
        this.log(
          `  schedule ${s.expression} -> ${fn.entry}: not a rate, not run locally (invoke it by hand)`,
        );
        continue;
      }
      const timer = setInterval(() => {
        this.invoke(
          fn.logicalId,
          s.input ?? {
            source: 'aws.events',
            'detail-type': 'Scheduled Event',
            time: new Date().toISOString(),
          },
        ).catch((error: unknown) =>
          this.log(`  schedule ${fn.entry} failed: ${(error as Error).message}`),
        );
      }, s.periodMs);
      timer.unref();
      this.timers.push(timer);
      this.log(`  schedule ${s.expression} -> ${fn.entry}`);
    }
  }

  /** Stops the pollers and schedules and waits for running invocations. */
  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled(this.loops);
    this.loops.length = 0;
    this.sqs.destroy();
    this.streams.destroy();
  }

  private async pollQueue(m: LocalEventSourceMapping): Promise<void> {
    const fn = this.functions.get(m.functionLogicalId)!;
    while (this.running) {
      try {
        const batch: Message[] = [];
        const windowEnds = Date.now() + m.batchingWindowSeconds * 1000;
        do {
          const received = await this.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: m.source,
              MaxNumberOfMessages: Math.min(10, m.batchSize - batch.length),
              WaitTimeSeconds: batch.length === 0 ? (this.options.receiveWaitSeconds ?? 1) : 0,
              MessageSystemAttributeNames: ['All'],
              MessageAttributeNames: ['All'],
            }),
          );
          const messages = received.Messages ?? [];
          batch.push(...messages);
          if (messages.length === 0 && batch.length > 0) await sleep(50);
        } while (
          this.running &&
          batch.length > 0 &&
          batch.length < m.batchSize &&
          Date.now() < windowEnds
        );
        if (batch.length === 0) continue;
        await this.deliverSqsBatch(m, fn, batch);
      } catch (error) {
        if (!this.running) break;
        this.log(`  poller ${fn.entry}: ${(error as Error).message}`);
        await sleep(200);
      }
    }
  }

  private async deliverSqsBatch(
    m: LocalEventSourceMapping,
    fn: LocalFunction,
    batch: Message[],
  ): Promise<void> {
    const key = fn.entry.replace(/^functions\/|\.ts$/g, '');
    const records = batch.map((msg) =>
      toLambdaSqsRecord(msg, m.sourceArn, this.environment.region),
    );
    // Event filtering: records that do not match are deleted without invoking, as Lambda does.
    const passing = records.filter((r) =>
      passesFilterCriteria(m.filterCriteria, r as unknown as Record<string, unknown>),
    );
    const dropped = records.filter((r) => !passing.includes(r));
    let failed = new Set<string>();
    if (passing.length > 0) {
      this.stats.deliveredRecords[key] = (this.stats.deliveredRecords[key] ?? 0) + passing.length;
      try {
        const response = (await this.invoke(fn.logicalId, { Records: passing })) as
          { batchItemFailures?: Array<{ itemIdentifier: string }> } | undefined;
        if (m.reportBatchItemFailures && response?.batchItemFailures) {
          failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
          // An unknown or empty identifier fails the whole batch, as in Lambda.
          if ([...failed].some((id) => !passing.some((r) => r.messageId === id)))
            failed = new Set(passing.map((r) => r.messageId));
        }
      } catch (error) {
        this.log(
          `  ${fn.entry} failed its batch of ${passing.length}: ${(error as Error).message}`,
        );
        failed = new Set(passing.map((r) => r.messageId));
      }
    }
    this.stats.failedItems[key] = (this.stats.failedItems[key] ?? 0) + failed.size;
    const done = [...passing.filter((r) => !failed.has(r.messageId)), ...dropped];
    for (let i = 0; i < done.length; i += 10) {
      const chunk = done.slice(i, i + 10);
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: m.source,
          Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    const retryAfter = this.options.failedMessageVisibilitySeconds;
    if (retryAfter !== undefined && failed.size > 0) {
      const retry = passing.filter((r) => failed.has(r.messageId));
      for (let i = 0; i < retry.length; i += 10) {
        await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: m.source,
            Entries: retry.slice(i, i + 10).map((r, j) => ({
              Id: String(j),
              ReceiptHandle: r.receiptHandle,
              VisibilityTimeout: retryAfter,
            })),
          }),
        );
      }
    }
  }

  private async pollStream(m: LocalEventSourceMapping): Promise<void> {
    const fn = this.functions.get(m.functionLogicalId)!;
    const iterators = new Map<string, string | undefined>();
    const startType = m.startingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON';
    while (this.running) {
      try {
        const description = await this.streams.send(
          new DescribeStreamCommand({ StreamArn: m.source }),
        );
        for (const shard of description.StreamDescription?.Shards ?? []) {
          if (!iterators.has(shard.ShardId!)) {
            const it = await this.streams.send(
              new GetShardIteratorCommand({
                StreamArn: m.source,
                ShardId: shard.ShardId!,
                ShardIteratorType: startType,
              }),
            );
            iterators.set(shard.ShardId!, it.ShardIterator);
          }
        }
        let any = false;
        for (const [shardId, iterator] of iterators) {
          if (!iterator) continue;
          const page = await this.streams.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: m.batchSize }),
          );
          iterators.set(shardId, page.NextShardIterator);
          const records = (page.Records ?? [])
            .map((r) => toLambdaStreamRecord(r, m.sourceArn, this.environment.region))
            .filter((r) =>
              passesFilterCriteria(m.filterCriteria, r as unknown as Record<string, unknown>),
            );
          if (records.length === 0) continue;
          any = true;
          await this.deliverStreamBatch(m, fn, records);
        }
        this.streamLag.set(m.logicalId, any);
        if (!any) await sleep(250);
      } catch (error) {
        if (!this.running) break;
        this.log(`  stream poller ${fn.entry}: ${(error as Error).message}`);
        await sleep(500);
      }
    }
  }

  private async deliverStreamBatch(
    m: LocalEventSourceMapping,
    fn: LocalFunction,
    records: DynamoDBRecord[],
  ): Promise<void> {
    const key = fn.entry.replace(/^functions\/|\.ts$/g, '');
    const maxAttempts =
      m.maximumRetryAttempts === undefined || m.maximumRetryAttempts < 0
        ? 10
        : m.maximumRetryAttempts + 1;
    let remaining = records;
    for (let attempt = 1; attempt <= maxAttempts && remaining.length > 0; attempt += 1) {
      this.stats.deliveredRecords[key] = (this.stats.deliveredRecords[key] ?? 0) + remaining.length;
      try {
        const response = (await this.invoke(fn.logicalId, { Records: remaining })) as
          { batchItemFailures?: Array<{ itemIdentifier: string }> } | undefined;
        const first = m.reportBatchItemFailures
          ? response?.batchItemFailures?.[0]?.itemIdentifier
          : undefined;
        if (!first) return;
        // Streams resume from the first failed sequence number, as Lambda does.
        const index = remaining.findIndex((r) => r.dynamodb?.SequenceNumber === first);
        remaining = index < 0 ? remaining : remaining.slice(index);
      } catch (error) {
        this.log(
          `  ${fn.entry} failed a stream batch (attempt ${attempt}): ${(error as Error).message}`,
        );
      }
      this.stats.failedItems[key] = (this.stats.failedItems[key] ?? 0) + remaining.length;
      await sleep(100 * attempt);
    }
    if (remaining.length > 0)
      this.log(
        `  ${fn.entry}: dropped ${remaining.length} stream records after ${maxAttempts} attempts`,
      );
  }

  /**
   * Waits until every mapped queue is empty (visible and in flight), every stream is caught up and
   * no invocation runs, for two consecutive checks. Throws after `timeoutMs`.
   */
  async waitForIdle(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quietChecks = 0;
    while (Date.now() < deadline) {
      let busy = this.inFlight > 0 || [...this.streamLag.values()].some(Boolean);
      if (!busy) {
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
          if (
            Number(a.ApproximateNumberOfMessages ?? 0) +
              Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
              Number(a.ApproximateNumberOfMessagesDelayed ?? 0) >
            0
          ) {
            busy = true;
            break;
          }
        }
      }
      quietChecks = busy ? 0 : quietChecks + 1;
      if (quietChecks >= 3) return;
      await sleep(200);
    }
    throw new Error(`The pipeline did not become idle within ${timeoutMs} ms`);
  }
}
