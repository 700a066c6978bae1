import { randomBytes } from 'node:crypto';
import { LocalEndpoint, startLocalEndpoint } from './endpoint';
import { provisionFromTemplate, ProvisionedEnvironment } from './provision';
import { LocalReplicator } from './replicator';
import { LocalRuntime, LocalRuntimeOptions } from './runtime';
import { readTemplate, synthesizeLocal } from './template';

/** A whole local pipeline: endpoint, resources from the template, and the runtime. */
export interface LocalPipeline {
  readonly endpoint: string;
  readonly environment: ProvisionedEnvironment;
  readonly runtime: LocalRuntime;
  /** Copies what S3 replication would (the checkpoints to their anchor); started with the runtime. */
  readonly replicator: LocalReplicator;
  /** Stops the runtime, and the endpoint when this pipeline started it. */
  stop(): Promise<void>;
}

/** Options for {@link startLocalPipeline}. */
export interface LocalPipelineOptions extends LocalRuntimeOptions {
  /** Use this endpoint instead of starting one. */
  readonly endpoint?: string;
  /** Template to provision from; synthesized into `.local/cdk.out` when omitted. */
  readonly templatePath?: string;
  readonly region?: string;
  /** Prefix of physical names. @default random */
  readonly prefix?: string;
  /** Start pollers and schedules at once. @default true */
  readonly startRuntime?: boolean;
}

/** A short random prefix for physical names, valid for buckets, queues and tables. */
export function randomPrefix(): string {
  return `po${randomBytes(3).toString('hex')}`;
}

/**
 * Starts (or joins) the local endpoint, synthesizes and provisions the stack's resources from
 * the template, and starts the runtime that feeds the handlers.
 */
export async function startLocalPipeline(
  options: LocalPipelineOptions = {},
): Promise<LocalPipeline> {
  const log = options.log ?? (() => undefined);
  const region = options.region ?? 'eu-west-3';
  // Code of this process that builds clients from a function's environment (the demo's and the
  // tests' domain services) finds credentials through the SDK's default chain: placeholders,
  // unless the process has its own (the local endpoint checks no signature).
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  let started: LocalEndpoint | undefined;
  const endpoint = options.endpoint ?? (started = await startLocalEndpoint({ log })).url;
  try {
    const templatePath = options.templatePath ?? synthesizeLocal({ region });
    log(`provisioning from ${templatePath}`);
    const environment = await provisionFromTemplate(readTemplate(templatePath), {
      endpoint,
      region,
      prefix: options.prefix ?? randomPrefix(),
      log,
    });
    const runtime = new LocalRuntime(environment, options);
    const replicator = new LocalReplicator(environment);
    if (options.startRuntime !== false) {
      runtime.start();
      replicator.start();
    }
    return {
      endpoint,
      environment,
      runtime,
      replicator,
      stop: async () => {
        await runtime.stop();
        await replicator.stop();
        await started?.stop();
      },
    };
  } catch (error) {
    await started?.stop();
    throw error;
  }
}
