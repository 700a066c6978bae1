import { ENTRY_METADATA_KEY } from '../infra/constructs/pipeline-function';
import { resolveIntrinsics } from './intrinsics';
import type { ProvisionedEnvironment } from './provision';

/** A Lambda function of the template, as the template declares it. */
export interface TemplateFunction {
  readonly logicalId: string;
  /** Physical name given by the local provisioning. */
  readonly name: string;
  readonly arn: string;
  /** Source file relative to the repository root, e.g. `functions/intake.ts`. */
  readonly entry: string;
  /** Short name: the entry without `functions/` and `.ts` (`intake`), the key of every statistic. */
  readonly key: string;
  /** The template's `Environment.Variables`, resolved against the local resources. */
  readonly variables: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** `ReservedConcurrentExecutions`, when set. */
  readonly reservedConcurrency?: number;
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
  /** `ScalingConfig.MaximumConcurrency` (SQS): how many instances the mapping may keep busy. */
  readonly maximumConcurrency?: number;
}

/** A schedule of the template (EventBridge rule or Scheduler schedule). */
export interface LocalSchedule {
  readonly logicalId: string;
  readonly functionLogicalId: string;
  readonly expression: string;
  /** Period in milliseconds, when the expression is a rate; cron expressions are not run locally. */
  readonly periodMs?: number;
  readonly input?: unknown;
}

/** What the local runtime runs, read from the template: functions, their triggers and schedules. */
export interface TemplateModel {
  readonly functions: ReadonlyMap<string, TemplateFunction>;
  readonly mappings: readonly LocalEventSourceMapping[];
  readonly schedules: readonly LocalSchedule[];
}

/** The short name of a function entry: `functions/intake.ts` → `intake`. */
export function functionKey(entry: string): string {
  return entry.replace(/^functions\/|\.ts$/g, '');
}

/** The period of a `rate(...)` expression in milliseconds; undefined for anything else. */
export function parseRate(expression: string): number | undefined {
  const m = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!m) return undefined;
  const unit = m[2].startsWith('minute')
    ? 60_000
    : m[2].startsWith('hour')
      ? 3_600_000
      : 86_400_000;
  return Number(m[1]) * unit;
}

type Resolve = (value: unknown) => unknown;

function readFunctions(
  environment: ProvisionedEnvironment,
  resolve: Resolve,
): Map<string, TemplateFunction> {
  const functions = new Map<string, TemplateFunction>();
  for (const [logicalId, resource] of Object.entries(environment.template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const entry = resource.Metadata?.[ENTRY_METADATA_KEY];
    if (typeof entry !== 'string') continue; // CDK-internal functions (custom resources) are not ours
    const props = resource.Properties ?? {};
    const vars = ((props.Environment as { Variables?: unknown } | undefined)?.Variables ??
      {}) as Record<string, unknown>;
    const physical = environment.resources.get(logicalId)!;
    const reserved = props.ReservedConcurrentExecutions;
    functions.set(logicalId, {
      logicalId,
      name: physical.ref,
      arn: physical.attributes.Arn,
      entry,
      key: functionKey(entry),
      variables: Object.fromEntries(
        Object.entries(resolve(vars) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      ),
      timeoutSeconds: Number(props.Timeout ?? 3),
      memoryMb: Number(props.MemorySize ?? 128),
      ...(reserved === undefined ? {} : { reservedConcurrency: Number(reserved) }),
    });
  }
  return functions;
}

/** Event sources by ARN: queues (by queue ARN) and table streams (by stream ARN). */
function eventSources(environment: ProvisionedEnvironment) {
  const byArn = new Map<string, { kind: 'sqs' | 'dynamodb-stream'; source: string }>();
  for (const r of environment.resources.values()) {
    if (r.type === 'AWS::SQS::Queue') byArn.set(r.attributes.Arn, { kind: 'sqs', source: r.ref });
    if (r.type === 'AWS::DynamoDB::Table' && r.attributes.StreamArn)
      byArn.set(r.attributes.StreamArn, {
        kind: 'dynamodb-stream',
        source: r.attributes.StreamArn,
      });
  }
  return byArn;
}

function readMapping(
  logicalId: string,
  props: Record<string, unknown>,
  functionLogicalId: string,
  sourceArn: string,
  source: { kind: 'sqs' | 'dynamodb-stream'; source: string },
): LocalEventSourceMapping {
  const scaling = props.ScalingConfig as { MaximumConcurrency?: unknown } | undefined;
  return {
    logicalId,
    functionLogicalId,
    kind: source.kind,
    sourceArn,
    source: source.source,
    batchSize: Number(props.BatchSize ?? (source.kind === 'sqs' ? 10 : 100)),
    batchingWindowSeconds: Number(props.MaximumBatchingWindowInSeconds ?? 0),
    reportBatchItemFailures: ((props.FunctionResponseTypes as string[] | undefined) ?? []).includes(
      'ReportBatchItemFailures',
    ),
    filterCriteria: props.FilterCriteria as LocalEventSourceMapping['filterCriteria'],
    startingPosition: props.StartingPosition as string | undefined,
    maximumRetryAttempts:
      props.MaximumRetryAttempts === undefined ? undefined : Number(props.MaximumRetryAttempts),
    ...(scaling?.MaximumConcurrency === undefined
      ? {}
      : { maximumConcurrency: Number(scaling.MaximumConcurrency) }),
  };
}

/**
 * Reads the functions (those with an entry in their metadata), event source mappings and
 * schedules of a provisioned template, every reference resolved against the local resources.
 * Reads only: nothing is created or started.
 */
export function readTemplateModel(environment: ProvisionedEnvironment): TemplateModel {
  const resolve: Resolve = (v) => resolveIntrinsics(v, environment.resources, environment.pseudo);
  const functions = readFunctions(environment, resolve);
  const sources = eventSources(environment);
  const functionByRef = (value: unknown): string | undefined => {
    const name = String(resolve(value));
    for (const f of functions.values()) if (f.name === name || f.arn === name) return f.logicalId;
    return undefined;
  };
  const mappings: LocalEventSourceMapping[] = [];
  const schedules: LocalSchedule[] = [];
  const schedule = (
    logicalId: string,
    expression: string,
    target: { Arn: unknown; Input?: string } | undefined,
  ) => {
    const functionLogicalId = target ? functionByRef(target.Arn) : undefined;
    if (!functionLogicalId) return;
    schedules.push({
      logicalId,
      functionLogicalId,
      expression,
      periodMs: parseRate(expression),
      input: target?.Input ? JSON.parse(target.Input) : undefined,
    });
  };
  for (const [logicalId, resource] of Object.entries(environment.template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
      const sourceArn = String(resolve(props.EventSourceArn));
      const source = sources.get(sourceArn);
      const functionLogicalId = functionByRef(props.FunctionName);
      if (source && functionLogicalId)
        mappings.push(readMapping(logicalId, props, functionLogicalId, sourceArn, source));
    }
    if (resource.Type === 'AWS::Events::Rule' && typeof props.ScheduleExpression === 'string') {
      const targets = (props.Targets as Array<{ Arn: unknown; Input?: string }> | undefined) ?? [];
      for (const target of targets) schedule(logicalId, props.ScheduleExpression, target);
    }
    if (resource.Type === 'AWS::Scheduler::Schedule')
      schedule(
        logicalId,
        String(props.ScheduleExpression),
        props.Target as { Arn: unknown; Input?: string } | undefined,
      );
  }
  return { functions, mappings, schedules };
}

/**
 * How many instances of a function the template lets run at once: the sum of its queue mappings'
 * `MaximumConcurrency` (when each sets one), capped by its reserved concurrency; 1 when the
 * template sets neither.
 */
export function templateConcurrency(fn: TemplateFunction, model: TemplateModel): number {
  const queues = model.mappings.filter(
    (m) => m.functionLogicalId === fn.logicalId && m.kind === 'sqs',
  );
  const fromMappings =
    queues.length > 0 && queues.every((m) => m.maximumConcurrency !== undefined)
      ? queues.reduce((n, m) => n + m.maximumConcurrency!, 0)
      : undefined;
  const limits = [fromMappings, fn.reservedConcurrency].filter(
    (n): n is number => n !== undefined && n > 0,
  );
  return limits.length > 0 ? Math.min(...limits) : 1;
}
