/**
 * Deployment configuration read from CDK context, validated before any construct is built.
 * Refuses every region outside the EU pair the policies promise (P1).
 */
export const ALLOWED_REGIONS = ['eu-west-3', 'eu-west-1'] as const;
/** A region the pipeline may run in. */
export type AllowedRegion = (typeof ALLOWED_REGIONS)[number];

/** The validated settings of one deployment. */
export interface DeploymentConfig {
  readonly region: AllowedRegion;
  /** Default Object Lock (COMPLIANCE) retention of the processing log, in days. */
  readonly logRetentionDays: number;
}

/** Raised when the deployment configuration is invalid; synthesis stops with this message. */
export class InvalidDeploymentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDeploymentConfigError';
  }
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
  return { region, logRetentionDays };
}
