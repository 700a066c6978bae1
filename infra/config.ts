import {
  DEFAULT_MAX_DOCUMENT_BYTES,
  FUNCTIONS,
  parseDocumentSizeLimit,
} from '../shared/functions/declarations';

/**
 * Deployment configuration read from CDK context, validated before any construct is built.
 * Refuses every region outside the EU pair where the data may be stored and processed.
 */
export const ALLOWED_REGIONS = ['eu-west-3', 'eu-west-1'] as const;
/** A region the pipeline may run in. */
export type AllowedRegion = (typeof ALLOWED_REGIONS)[number];

/** The validated settings of one deployment. */
export interface DeploymentConfig {
  readonly region: AllowedRegion;
  /** Default Object Lock (COMPLIANCE) retention of the processing log, in days. */
  readonly logRetentionDays: number;
  /** Retention of the functions' CloudWatch log groups, in days (a value CloudWatch accepts). */
  readonly functionLogRetentionDays: number;
  /** E-mail addresses subscribed to the alarm topic (each confirms by e-mail). May be empty. */
  readonly alarmEmails: readonly string[];
  /**
   * Age in days of the oldest document waiting for a closure that raises an alarm (context
   * `waitingForClosureAlarmDays`): a producer that never sends account closures leaves documents
   * whose retention never starts. Default 1096 (three years: the shortest retention counted from
   * the end of a relationship, prospect contacts).
   */
  readonly waitingForClosureAlarmDays: number;
  /** How each queue-fed function scales (context `scaling`, over {@link DEFAULT_QUEUE_SCALING}). */
  readonly scaling: Readonly<Record<QueueFedFunctionName, QueueScaling>>;
  /**
   * The largest document the upload function takes, in bytes (context `maxDocumentBytes`).
   * @default DEFAULT_MAX_DOCUMENT_BYTES (512 MiB)
   */
  readonly maxDocumentBytes: number;
}

/** The functions fed by a queue: the intake and one per operation. */
export const QUEUE_FED_FUNCTIONS = [
  'intake',
  'document-upload',
  'account-closure',
  'erasure-request',
  'access-request',
  'legal-hold',
] as const;
/** A function fed by a queue. */
export type QueueFedFunctionName = (typeof QUEUE_FED_FUNCTIONS)[number];

/**
 * How a queue-fed function takes its queue: the event source mapping's batch size, batching
 * window and maximum concurrency (concurrent batches); its reserved concurrency equals the
 * maximum concurrency, so it is never throttled and never takes more.
 */
export interface QueueScaling {
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly maxConcurrency: number;
}

/**
 * Defaults sized for bursts (an onboarding import, month-end): the intake and the upload, which
 * carry the volume, drive up to 20 and 50 batches at once; the requests, rarer, 5 each. Reserved
 * concurrency of the whole stack at these defaults: 20 + 50 + 4 x 5 + 5 (expiry) + 1 (sweep) = 96.
 */
export const DEFAULT_QUEUE_SCALING: Readonly<Record<QueueFedFunctionName, QueueScaling>> = {
  intake: { batchSize: 10, batchingWindowSeconds: 1, maxConcurrency: 20 },
  'document-upload': { batchSize: 10, batchingWindowSeconds: 1, maxConcurrency: 50 },
  'account-closure': { batchSize: 10, batchingWindowSeconds: 1, maxConcurrency: 5 },
  'erasure-request': { batchSize: 10, batchingWindowSeconds: 1, maxConcurrency: 5 },
  'access-request': { batchSize: 10, batchingWindowSeconds: 1, maxConcurrency: 5 },
  'legal-hold': { batchSize: 10, batchingWindowSeconds: 1, maxConcurrency: 5 },
};

/** Concurrency Lambda keeps unreserved in an account (reservations may not go below it). */
export const UNRESERVED_CONCURRENCY_FLOOR = 100;

/** Retention periods CloudWatch Logs accepts, in days. */
export const LOG_GROUP_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** Raised when the deployment configuration is invalid; synthesis stops with this message. */
export class InvalidDeploymentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDeploymentConfigError';
  }
}

/** The other region of the EU pair: where the checkpoints' replica (the anchor) is kept. */
export function partnerRegion(region: AllowedRegion): AllowedRegion {
  return region === 'eu-west-3' ? 'eu-west-1' : 'eu-west-3';
}

function isAllowedRegion(region: string): region is AllowedRegion {
  return (ALLOWED_REGIONS as readonly string[]).includes(region);
}

/**
 * `region` as an allowed region; refuses anything outside the EU pair, naming where the value
 * came from (`source`) and what to do instead (`remedy`).
 */
export function allowedRegion(region: unknown, source: string, remedy: string): AllowedRegion {
  if (typeof region === 'string' && isAllowedRegion(region)) return region;
  throw new InvalidDeploymentConfigError(
    `Region ${JSON.stringify(region)} (from ${source}) is not allowed: privacy-ops deploys only to ` +
      `${ALLOWED_REGIONS.join(' (Paris) or ')} (Dublin), so that personal data never leaves the EU. ` +
      remedy,
  );
}

/**
 * Resolves the region: `-c region=…` first, then the environment (`CDK_DEFAULT_REGION`,
 * `AWS_REGION`, `AWS_DEFAULT_REGION`), else eu-west-3. Anything outside the EU pair is refused.
 */
export function resolveRegion(
  context: (key: string) => unknown,
  env: NodeJS.ProcessEnv = process.env,
): AllowedRegion {
  const fromContext = context('region');
  const candidates: Array<[string, unknown]> = [
    ['context "region"', fromContext],
    ['CDK_DEFAULT_REGION', fromContext === undefined ? env.CDK_DEFAULT_REGION : undefined],
    ['AWS_REGION', fromContext === undefined ? env.AWS_REGION : undefined],
    ['AWS_DEFAULT_REGION', fromContext === undefined ? env.AWS_DEFAULT_REGION : undefined],
  ];
  for (const [source, value] of candidates) {
    if (value === undefined || value === '') continue;
    return allowedRegion(value, source, 'Use -c region=eu-west-3 or -c region=eu-west-1.');
  }
  return 'eu-west-3';
}

/**
 * The settings of a deployment before validation: numbers and lists from the construct's props,
 * or the text of `-c` options (context). Each is optional and has a default.
 */
export interface DeploymentSettings {
  readonly logRetentionDays?: unknown;
  readonly functionLogRetentionDays?: unknown;
  readonly waitingForClosureAlarmDays?: unknown;
  /** A list, or addresses separated by commas. */
  readonly alarmEmails?: unknown;
  /** Overrides of {@link DEFAULT_QUEUE_SCALING}, as an object or its JSON text. */
  readonly scaling?: unknown;
  readonly accountConcurrency?: unknown;
  readonly maxDocumentBytes?: unknown;
}

/** Reads and validates the whole deployment configuration from context. */
export function loadDeploymentConfig(
  context: (key: string) => unknown,
  env: NodeJS.ProcessEnv = process.env,
): DeploymentConfig {
  return validateDeploymentConfig(resolveRegion(context, env), {
    logRetentionDays: context('logRetentionDays'),
    functionLogRetentionDays: context('functionLogRetentionDays'),
    waitingForClosureAlarmDays: context('waitingForClosureAlarmDays'),
    alarmEmails: context('alarmEmail'),
    scaling: context('scaling'),
    accountConcurrency: context('accountConcurrency'),
    maxDocumentBytes: context('maxDocumentBytes'),
  });
}

/**
 * Validates the settings of a deployment in `region`, each over its default; refuses the first
 * invalid one with an {@link InvalidDeploymentConfigError} naming it and the value given.
 */
export function validateDeploymentConfig(
  region: AllowedRegion,
  settings: DeploymentSettings,
): DeploymentConfig {
  const rawDays = settings.logRetentionDays;
  const logRetentionDays = rawDays === undefined ? 3653 : Number(rawDays);
  if (!Number.isInteger(logRetentionDays) || logRetentionDays < 1 || logRetentionDays > 36500) {
    throw new InvalidDeploymentConfigError(
      `logRetentionDays must be a whole number of days between 1 and 36500, got ${JSON.stringify(rawDays)}`,
    );
  }
  const rawLogGroupDays = settings.functionLogRetentionDays;
  const functionLogRetentionDays = rawLogGroupDays === undefined ? 365 : Number(rawLogGroupDays);
  if (!(LOG_GROUP_RETENTION_DAYS as readonly number[]).includes(functionLogRetentionDays)) {
    throw new InvalidDeploymentConfigError(
      `functionLogRetentionDays must be one of the retention periods CloudWatch Logs accepts ` +
        `(${LOG_GROUP_RETENTION_DAYS.join(', ')}), got ${JSON.stringify(rawLogGroupDays)}`,
    );
  }
  const rawWaiting = settings.waitingForClosureAlarmDays;
  const waitingForClosureAlarmDays = rawWaiting === undefined ? 1096 : Number(rawWaiting);
  if (
    !Number.isInteger(waitingForClosureAlarmDays) ||
    waitingForClosureAlarmDays < 1 ||
    waitingForClosureAlarmDays > 36500
  ) {
    throw new InvalidDeploymentConfigError(
      `waitingForClosureAlarmDays must be a whole number of days between 1 and 36500, got ${JSON.stringify(rawWaiting)}`,
    );
  }
  return {
    region,
    logRetentionDays,
    functionLogRetentionDays,
    waitingForClosureAlarmDays,
    alarmEmails: parseAlarmEmails(settings.alarmEmails),
    scaling: parseScaling(settings.scaling, settings.accountConcurrency, otherReserved),
    maxDocumentBytes: parseMaxDocumentBytes(settings.maxDocumentBytes),
  };
}

/** Reads `-c maxDocumentBytes=…` (bytes, 1 to 5 GiB) over {@link DEFAULT_MAX_DOCUMENT_BYTES}. */
export function parseMaxDocumentBytes(raw: unknown): number {
  if (raw === undefined) return DEFAULT_MAX_DOCUMENT_BYTES;
  try {
    return parseDocumentSizeLimit(raw, 'maxDocumentBytes');
  } catch (error) {
    throw new InvalidDeploymentConfigError((error as Error).message);
  }
}

/** Reserved concurrency of the functions not fed by a queue (retention expiry and sweep). */
const otherReserved = Object.values(FUNCTIONS)
  .filter((f) => !(QUEUE_FED_FUNCTIONS as readonly string[]).includes(f.name))
  .reduce((a, f) => a + f.reservedConcurrency, 0);

const parseJson = (raw: unknown): unknown => {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidDeploymentConfigError(`scaling must be a JSON object, got ${raw}`);
  }
};

/**
 * Reads `-c scaling='{"document-upload":{"maxConcurrency":100}}'` (or an object in cdk.json)
 * over {@link DEFAULT_QUEUE_SCALING}. Refuses an unknown function or field, a batch size outside
 * 1-10,000 (above 10 only with a window of at least one second), a window outside 0-300 s, a
 * maximum concurrency outside 2-1,000, and reservations that would leave the account
 * (`accountConcurrency`, default 1,000) fewer than 100 unreserved: other functions would starve.
 */
export function parseScaling(
  raw: unknown,
  rawAccount: unknown,
  reservedElsewhere: number,
): Record<QueueFedFunctionName, QueueScaling> {
  const given = parseJson(raw ?? {});
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new InvalidDeploymentConfigError(
      `scaling must be a JSON object, got ${JSON.stringify(raw)}`,
    );
  const scaling = { ...DEFAULT_QUEUE_SCALING } as Record<QueueFedFunctionName, QueueScaling>;
  for (const [name, value] of Object.entries(given as Record<string, unknown>)) {
    if (!(QUEUE_FED_FUNCTIONS as readonly string[]).includes(name))
      throw new InvalidDeploymentConfigError(
        `scaling: ${name} is not a queue-fed function (${QUEUE_FED_FUNCTIONS.join(', ')})`,
      );
    const fn = name as QueueFedFunctionName;
    const fields = (value ?? {}) as Record<string, unknown>;
    for (const field of Object.keys(fields))
      if (!(field in DEFAULT_QUEUE_SCALING[fn]))
        throw new InvalidDeploymentConfigError(
          `scaling.${fn}: unknown field ${field} (batchSize, batchingWindowSeconds, maxConcurrency)`,
        );
    scaling[fn] = checkScaling(fn, { ...DEFAULT_QUEUE_SCALING[fn], ...fields });
  }
  const account = rawAccount === undefined ? 1000 : Number(rawAccount);
  if (!Number.isInteger(account) || account < 1)
    throw new InvalidDeploymentConfigError(
      `accountConcurrency must be a whole number ≥ 1, got ${JSON.stringify(rawAccount)}`,
    );
  const reserved =
    reservedElsewhere + Object.values(scaling).reduce((a, s) => a + s.maxConcurrency, 0);
  if (reserved > account - UNRESERVED_CONCURRENCY_FLOOR)
    throw new InvalidDeploymentConfigError(
      `scaling reserves ${reserved} concurrent executions; the account (accountConcurrency ` +
        `${account}) must keep ${UNRESERVED_CONCURRENCY_FLOOR} unreserved for its other functions`,
    );
  return scaling;
}

function checkScaling(fn: string, s: Record<string, unknown>): QueueScaling {
  const whole = (v: unknown, min: number, max: number) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
  const { batchSize, batchingWindowSeconds, maxConcurrency } = s;
  if (!whole(batchSize, 1, 10000))
    throw new InvalidDeploymentConfigError(
      `scaling.${fn}.batchSize must be 1-10000, got ${JSON.stringify(batchSize)}`,
    );
  if (!whole(batchingWindowSeconds, 0, 300))
    throw new InvalidDeploymentConfigError(
      `scaling.${fn}.batchingWindowSeconds must be 0-300, got ${JSON.stringify(batchingWindowSeconds)}`,
    );
  if ((batchSize as number) > 10 && (batchingWindowSeconds as number) < 1)
    throw new InvalidDeploymentConfigError(
      `scaling.${fn}: a batch size above 10 needs a batching window of at least 1 second`,
    );
  if (!whole(maxConcurrency, 2, 1000))
    throw new InvalidDeploymentConfigError(
      `scaling.${fn}.maxConcurrency must be 2-1000, got ${JSON.stringify(maxConcurrency)}`,
    );
  return s as unknown as QueueScaling;
}

const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;

/**
 * Reads `-c alarmEmail=ops@example.eu` (several addresses separated by commas, or a JSON array in
 * cdk.json). Refuses anything that is not an e-mail address, so a typo does not silently leave
 * the alarms without a recipient.
 */
export function parseAlarmEmails(raw: unknown): string[] {
  if (raw === undefined || raw === '') return [];
  const values = Array.isArray(raw)
    ? raw
    : typeof raw === 'string'
      ? raw.split(',').map((v) => v.trim())
      : [raw];
  for (const value of values) {
    if (typeof value !== 'string' || !EMAIL.test(value)) {
      throw new InvalidDeploymentConfigError(
        `alarmEmail must be an e-mail address or a comma-separated list of them, got ${JSON.stringify(raw)}`,
      );
    }
  }
  return [...new Set(values as string[])];
}
