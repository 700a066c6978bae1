import * as path from 'node:path';

/** Where the local functions' AWS clients go. */
export interface LocalAwsSettings {
  readonly endpoint: string;
  readonly region: string;
}

/** Variables a host may set to run the local functions with other configuration files. */
export const LOCAL_CONFIGURATION_OVERRIDES = [
  'RETENTION_POLICY_FILE',
  'TENANTS_FILE',
  'PRODUCERS_FILE',
  'CONTINUATION_PAGE_DOCUMENTS',
] as const;

/**
 * The producer registry the local functions run with unless the host sets `PRODUCERS_FILE`: one
 * producer, the sender id moto gives every message, for every tenant, source and type, so a local
 * producer using the stack outputs works for any tenant.
 */
export const LOCAL_PRODUCERS_FILE = path.join(__dirname, 'producers.json');

/**
 * The environment one local function runs with, as Lambda would give it: the template's
 * variables of that function, plus what Lambda itself provides, set for the local endpoint: the
 * endpoint, the region, placeholder credentials (the local endpoint checks no signature), and
 * Powertools in development mode with metrics off. The log level is WARN unless the host process
 * sets `POWERTOOLS_LOG_LEVEL` (a test that needs DEBUG logs sets it before starting the runtime).
 * The SDK's warning about the host's Node.js version is given once by the host, not once per
 * instance (Lambda runs the functions on its own Node.js runtime).
 * The host's own variables are not passed on: a function sees only what its declaration gives it,
 * except the local configuration overrides ({@link LOCAL_CONFIGURATION_OVERRIDES}), which replace
 * the policy, tenant and producer files bundled into the functions when the host sets them. The
 * producer registry is always the local one ({@link LOCAL_PRODUCERS_FILE}) unless the host names
 * another: the bundled config/producers.json names deployed principals, which moto never reports.
 */
export function localFunctionEnvironment(
  variables: Readonly<Record<string, string>>,
  aws: LocalAwsSettings,
  host: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  return {
    ...variables,
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_REGION: aws.region,
    AWS_DEFAULT_REGION: aws.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: host.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    PRODUCERS_FILE: LOCAL_PRODUCERS_FILE,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...Object.fromEntries(
      LOCAL_CONFIGURATION_OVERRIDES.filter((name) => host[name]).map((name) => [name, host[name]!]),
    ),
  };
}
