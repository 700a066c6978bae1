import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Raised for anything the auditor can fix (missing stack, endpoint down, bad flag): printed without a stack trace. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Where the CLI finds the pipeline: a local endpoint (npm start) or a deployed stack. */
export interface CliEnvironment {
  /** Local endpoint URL, or undefined for the deployed stack (default AWS configuration). */
  readonly endpoint?: string;
  readonly region?: string;
  /** Stack outputs (from `.local/outputs.json` locally), by output name. */
  readonly outputs: Readonly<Record<string, string>>;
  /** Where the outputs came from, for messages. */
  readonly source: string;
}

/** Flags that select the environment. */
export interface EnvironmentFlags {
  readonly endpoint?: string;
  readonly region?: string;
  /** Path of the outputs file. @default `.local/outputs.json` of the working directory */
  readonly outputs?: string;
  /** Ignore the local outputs: use the deployed stack (AWS default configuration). */
  readonly deployed?: boolean;
}

/** The default outputs file written by `npm start`. */
export function defaultOutputsFile(cwd: string = process.cwd()): string {
  return path.resolve(cwd, '.local', 'outputs.json');
}

/**
 * Resolves the environment: `--endpoint` or `.local/outputs.json` (written by `npm start`) means
 * local; `--deployed`, or no outputs file, means the deployed stack through the AWS default
 * configuration (names then come from flags).
 */
export function resolveEnvironment(flags: EnvironmentFlags): CliEnvironment {
  const file = flags.outputs ?? defaultOutputsFile();
  if (!flags.deployed && existsSync(file)) {
    let outputs: Record<string, string>;
    try {
      outputs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    return {
      endpoint: flags.endpoint ?? outputs.endpoint,
      region: flags.region ?? outputs.region ?? 'eu-west-3',
      outputs,
      source: path.relative(process.cwd(), file) || file,
    };
  }
  if (flags.outputs && !flags.deployed) throw new CliError(`no outputs file at ${flags.outputs}`);
  return {
    endpoint: flags.deployed ? undefined : flags.endpoint,
    region: flags.region ?? process.env.AWS_REGION ?? (flags.endpoint ? 'eu-west-3' : undefined),
    outputs: {},
    source: flags.endpoint ? `--endpoint ${flags.endpoint}` : 'the deployed stack',
  };
}

/** A stack output, or the flag that overrides it; a clear error when neither is there. */
export function requireName(
  env: CliEnvironment,
  flag: string | undefined,
  output: string,
  flagName: string,
): string {
  const value = flag ?? env.outputs[output];
  if (!value)
    throw new CliError(
      `no ${output} in ${env.source}: pass --${flagName} (or run npm start for a local pipeline)`,
    );
  return value;
}

function clientOptions(env: CliEnvironment) {
  return {
    ...(env.region ? { region: env.region } : {}),
    ...(env.endpoint
      ? {
          endpoint: env.endpoint,
          credentials: {
            accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
            secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
          },
          maxAttempts: 2,
        }
      : {}),
  };
}

/** An S3 client for the environment (path-style on a local endpoint). */
export function s3ClientFor(env: CliEnvironment): S3Client {
  return new S3Client({ ...clientOptions(env), forcePathStyle: env.endpoint !== undefined });
}

/** A KMS client for the environment. */
export function kmsClientFor(env: CliEnvironment): KMSClient {
  return new KMSClient(clientOptions(env));
}

/** A DynamoDB document client for the environment (undefined attributes dropped, as the functions do). */
export function dynamoClientFor(env: CliEnvironment): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientOptions(env)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** An SQS client for the environment. */
export function sqsClientFor(env: CliEnvironment): SQSClient {
  return new SQSClient(clientOptions(env));
}

/** Turns a connection or missing-resource error into what to do about it. */
export function explainAwsError(error: unknown, env: CliEnvironment, what: string): Error {
  if (error instanceof CliError) return error;
  const e = error as { name?: string; code?: string; message?: string; errors?: unknown[] };
  const text = `${e.name ?? ''} ${e.code ?? ''} ${e.message ?? ''}`;
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|socket hang up/.test(text) || e.errors !== undefined) {
    return env.endpoint
      ? new CliError(
          `no local endpoint at ${env.endpoint} (from ${env.source}): run npm start, or pass --endpoint`,
          { cause: error },
        )
      : new CliError(`cannot reach AWS for ${what}: ${e.message ?? e.name}`, { cause: error });
  }
  if (
    e.name === 'ResourceNotFoundException' ||
    e.name === 'QueueDoesNotExist' ||
    e.name === 'AWS.SimpleQueueService.NonExistentQueue'
  )
    return new CliError(
      `${what} does not exist${env.endpoint ? ` at ${env.endpoint}` : ''}: is ${env.source} from the running pipeline (npm start)?`,
      { cause: error },
    );
  if (e.name === 'NoSuchBucket')
    return new CliError(
      `${what} does not exist${env.endpoint ? ` at ${env.endpoint}` : ''}: is ${env.source} from the running pipeline (npm start)?`,
      { cause: error },
    );
  if (/CredentialsProviderError|Could not load credentials/.test(text))
    return new CliError(
      `no AWS credentials for the deployed stack: configure them (AWS_PROFILE), or run npm start for a local pipeline`,
      { cause: error },
    );
  return error instanceof Error ? error : new Error(String(error));
}
