import { Logger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventType } from '../../events';
import { createDynamoClient, createDynamoDocumentClient } from '../aws/dynamodb';
import { createKmsClient } from '../aws/kms';
import { createS3Client } from '../aws/s3';
import { functionTracer } from '../aws/tracing';
import { createSqsClient } from '../aws/sqs';
import type { IdempotencyTable } from '../batch/batch-services';
import { ContinuationQueue } from '../batch/continuation-queue';
import { DeadLetterRouter } from '../batch/dead-letter';
import { requireEnv } from '../config';
import { ConfigurationError } from '../errors';
import type { OperationRoutes } from '../intake/forwarder';
import { OPERATION_OF_EVENT } from '../operations/routes';
import { KmsNoteSigner } from '../aws/kms-note-signer';
import { Checkpointer } from '../processing-log/checkpointer';
import { ProcessingLogWriter } from '../processing-log/writer';
import { Pseudonymizer } from '../pseudonym';
import { defaultProducerRegistry, type ProducerRegistry } from '../intake/producer-registry';
import { defaultRetentionPolicy, type RetentionPolicy } from '../retention/policy';
import { RetentionStore } from '../retention/retention-store';
import { DocumentVault } from '../vault/document-vault';
import {
  accessOf,
  FUNCTIONS,
  parseDocumentSizeLimit,
  SERVICE_VARIABLES,
  servicesOf,
  variablesOf,
  type FunctionName,
  type ServiceName,
} from './declarations';

/** How long an unwrapped subject key is reused: effectively once (see the vault below). */
export const SUBJECT_KEY_CACHE_MS = 1;

/** A bucket and the client that reaches it. */
export interface BucketAccess {
  readonly bucket: string;
  readonly s3: S3Client;
}

/** The upload bucket; with `read-delete` access, the largest upload the function takes. */
export interface UploadsAccess extends BucketAccess {
  /** Bytes; set for `read-delete` access only (from `MAX_DOCUMENT_BYTES`). */
  readonly maxDocumentBytes?: number;
}

/** The operation queues: where the intake forwards each event type, and the client to do it. */
export interface OperationQueues {
  readonly sqs: SQSClient;
  readonly routes: OperationRoutes;
}

/** What each service is, built. */
export interface ServiceObjects {
  readonly log: ProcessingLogWriter;
  readonly pseudonyms: Pseudonymizer;
  readonly idempotency: IdempotencyTable;
  readonly deadLetters: DeadLetterRouter;
  readonly store: RetentionStore;
  readonly vault: DocumentVault;
  readonly uploads: UploadsAccess;
  readonly exports: BucketAccess;
  readonly operationQueues: OperationQueues;
  readonly continuations: ContinuationQueue;
  readonly policy: RetentionPolicy;
  readonly producers: ProducerRegistry;
  readonly checkpoints: Checkpointer;
}

/** What every function has, whatever its services. */
export interface CommonServices {
  /**
   * Powertools logger, configured by the function's environment: `POWERTOOLS_SERVICE_NAME` (infra
   * sets it to the function's name) and `POWERTOOLS_LOG_LEVEL`.
   */
  readonly logger: Logger;
  /** The clock. */
  readonly now: () => Date;
}

/** The services of function `N`: exactly those its declaration names, plus the common ones. */
export type FunctionServices<N extends FunctionName> = Pick<
  ServiceObjects,
  keyof (typeof FUNCTIONS)[N]['services'] & ServiceName
> &
  CommonServices;

/**
 * The values of a service's variables, by field (a field the function's access does not need, see
 * `variablesOf`, is absent).
 */
type ConfigOf<S extends ServiceName> = {
  readonly [F in keyof (typeof SERVICE_VARIABLES)[S]]: string;
};

/**
 * The AWS clients of one function, each made once, when a service first needs it, and traced:
 * in Lambda (active tracing) every call is an X-Ray subsegment of the invocation, recording no
 * producer-chosen value (see `functionTracer`); elsewhere (the local runtime, tests) the tracer is
 * off and the clients are left as they are.
 */
class FunctionClients {
  private made: {
    s3?: S3Client;
    dynamo?: DynamoDBClient;
    documents?: DynamoDBDocumentClient;
    kms?: KMSClient;
    sqs?: SQSClient;
  } = {};
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly tracer: Tracer,
  ) {}
  private traced = <C>(client: C): C => this.tracer.captureAWSv3Client(client);
  s3 = () => (this.made.s3 ??= this.traced(createS3Client(this.env)));
  dynamo = () => (this.made.dynamo ??= this.traced(createDynamoClient(this.env)));
  // The document client sends through the traced client's middleware stack.
  documents = () => (this.made.documents ??= createDynamoDocumentClient(this.dynamo()));
  kms = () => (this.made.kms ??= this.traced(createKmsClient(this.env)));
  sqs = () => (this.made.sqs ??= this.traced(createSqsClient(this.env)));
}

/** The function a service is built for. */
interface Builder {
  readonly name: FunctionName;
  readonly env: NodeJS.ProcessEnv;
  readonly clients: FunctionClients;
}

type Builders = {
  readonly [S in ServiceName]: (config: ConfigOf<S>, on: Builder) => ServiceObjects[S];
};

const BUILDERS: Builders = {
  log: ({ bucket }, { clients, name }) =>
    new ProcessingLogWriter({ s3: clients.s3(), bucket, actor: name }),
  pseudonyms: ({ keyId }, { clients }) => new Pseudonymizer(clients.kms(), keyId),
  idempotency: ({ table }, { clients }) => ({ table, dynamo: clients.dynamo() }),
  deadLetters: ({ queueUrl }, { clients }) => new DeadLetterRouter(clients.sqs(), queueUrl),
  store: ({ table }, { clients }) => new RetentionStore({ table, dynamo: clients.documents() }),
  // Subject keys are not cached across documents (1 ms): another function may have shredded
  // one, and a document must never be written or read under a destroyed key. Tenant wrapping
  // keys stay cached, so this costs one key-store read per document, not a KMS call.
  vault: (config, { clients }) =>
    new DocumentVault({
      ...config,
      s3: clients.s3(),
      dynamo: clients.documents(),
      kms: clients.kms(),
      subjectKeyCacheTtlMs: SUBJECT_KEY_CACHE_MS,
    }),
  uploads: ({ bucket, maxDocumentBytes }, { clients }) => ({
    bucket,
    s3: clients.s3(),
    ...(maxDocumentBytes !== undefined
      ? { maxDocumentBytes: documentSizeLimit(maxDocumentBytes) }
      : {}),
  }),
  exports: ({ bucket }, { clients }) => ({ bucket, s3: clients.s3() }),
  // `RETENTION_POLICY_FILE` may replace the bundled file locally; infra never sets it.
  policy: (_config, { env }) => defaultRetentionPolicy(env),
  // `PRODUCERS_FILE` may replace the bundled registry locally; infra never sets it.
  producers: (_config, { env }) => defaultProducerRegistry(env),
  // The signer reads the key's public half on the first run, not at module load.
  checkpoints: ({ bucket, keyId }, { clients }) =>
    new Checkpointer({ s3: clients.s3(), bucket, signer: new KmsNoteSigner(clients.kms(), keyId) }),
  continuations: ({ queueUrl, pageDocuments }, { clients }) =>
    new ContinuationQueue(clients.sqs(), queueUrl, pageDocuments),
  // The intake forwards each event type to the queue of its operation (one table: routes.ts).
  operationQueues: (urls, { clients }) => ({
    sqs: clients.sqs(),
    routes: Object.fromEntries(
      (Object.keys(OPERATION_OF_EVENT) as EventType[]).map((type) => [
        type,
        urls[OPERATION_OF_EVENT[type]],
      ]),
    ) as OperationRoutes,
  }),
};

/** The document size limit of `MAX_DOCUMENT_BYTES`; a value that is not one fails fast. */
function documentSizeLimit(raw: string): number {
  try {
    return parseDocumentSizeLimit(raw, SERVICE_VARIABLES.uploads.maxDocumentBytes);
  } catch (error) {
    throw new ConfigurationError('invalid-config', (error as Error).message);
  }
}

/**
 * Reads the variables the function's access to `service` needs from `env`, failing fast naming
 * the first one missing.
 */
function configOf<S extends ServiceName>(service: S, on: Builder): ConfigOf<S> {
  const variables = variablesOf(service, accessOf(FUNCTIONS[on.name], service));
  return Object.fromEntries(
    Object.entries(variables).map(([field, variable]) => [field, requireEnv(variable, on.env)]),
  ) as ConfigOf<S>;
}

function build<S extends ServiceName>(service: S, on: Builder): ServiceObjects[S] {
  return BUILDERS[service](configOf(service, on), on);
}

/**
 * Builds the services of function `name` once, at module scope: exactly the services its
 * declaration names, from the variables infra set for them (fails fast naming a missing one),
 * each AWS client made once and shared. Tests pass the function's own environment.
 */
export function functionServices<N extends FunctionName>(
  name: N,
  env: NodeJS.ProcessEnv = process.env,
): FunctionServices<N> {
  // Tracer and logger read their settings (POWERTOOLS_SERVICE_NAME, AWS_EXECUTION_ENV) from the
  // process environment, as Powertools does.
  const on: Builder = { name, env, clients: new FunctionClients(env, functionTracer()) };
  const services: Record<string, unknown> = {
    logger: new Logger(),
    now: () => new Date(),
  };
  for (const service of servicesOf(FUNCTIONS[name])) {
    services[service] = build(service, on);
  }
  return services as FunctionServices<N>;
}
