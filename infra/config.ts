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
}

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
    if (typeof value !== 'string' || !isAllowedRegion(value)) {
      throw new InvalidDeploymentConfigError(
        `Region ${JSON.stringify(value)} (from ${source}) is not allowed: privacy-ops deploys only to ` +
          `${ALLOWED_REGIONS.join(' (Paris) or ')} (Dublin), so that personal data never leaves the EU. ` +
          `Use -c region=eu-west-3 or -c region=eu-west-1.`,
      );
    }
    return value;
  }
  return 'eu-west-3';
}

/** Reads and validates the whole deployment configuration from context. */
export function loadDeploymentConfig(
  context: (key: string) => unknown,
  env: NodeJS.ProcessEnv = process.env,
): DeploymentConfig {
  const region = resolveRegion(context, env);
  const rawDays = context('logRetentionDays');
  const logRetentionDays = rawDays === undefined ? 3653 : Number(rawDays);
  if (!Number.isInteger(logRetentionDays) || logRetentionDays < 1 || logRetentionDays > 36500) {
    throw new InvalidDeploymentConfigError(
      `logRetentionDays must be a whole number of days between 1 and 36500, got ${JSON.stringify(rawDays)}`,
    );
  }
  const rawLogGroupDays = context('functionLogRetentionDays');
  const functionLogRetentionDays = rawLogGroupDays === undefined ? 365 : Number(rawLogGroupDays);
  if (!(LOG_GROUP_RETENTION_DAYS as readonly number[]).includes(functionLogRetentionDays)) {
    throw new InvalidDeploymentConfigError(
      `functionLogRetentionDays must be one of the retention periods CloudWatch Logs accepts ` +
        `(${LOG_GROUP_RETENTION_DAYS.join(', ')}), got ${JSON.stringify(rawLogGroupDays)}`,
    );
  }
  return {
    region,
    logRetentionDays,
    functionLogRetentionDays,
    alarmEmails: parseAlarmEmails(context('alarmEmail')),
  };
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
