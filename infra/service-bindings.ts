import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  accessOf,
  SERVICE_VARIABLES,
  servicesOf,
  variablesOf,
  type FunctionDeclaration,
  type ServiceAccess,
  type ServiceName,
} from '../shared/functions/declarations';
import { QUEUE_OPERATIONS, type QueueOperation } from '../shared/operations/routes';

/** The resources the functions' services stand for, as the stack built them. */
export interface PipelineResources {
  readonly logBucket: s3.IBucket;
  readonly pseudonymKey: kms.IKey;
  readonly idempotencyTable: dynamodb.ITable;
  readonly deadLetterQueue: sqs.IQueue;
  readonly retentionTable: dynamodb.ITable;
  readonly vaultBucket: s3.IBucket;
  readonly keyStore: dynamodb.ITable;
  /** Wraps the per-tenant keys of the vault; used only with the tenant as encryption context. */
  readonly documentsKey: kms.IKey;
  readonly uploadBucket: s3.IBucket;
  readonly exportBucket: s3.IBucket;
  /** Signs the checkpoints of the processing log (ECC_NIST_P256). */
  readonly checkpointKey: kms.IKey;
  /** The input queue of each queue-fed operation, once built (the intake forwards to them). */
  readonly operationQueues?: Readonly<Record<QueueOperation, sqs.IQueue>>;
  /** The largest upload the upload function reads, in bytes (a setting of the deployment). */
  readonly maxDocumentBytes: number;
}

/** What one service brings to a function: the values of its variables, and its grants. */
interface ServiceBinding<S extends ServiceName> {
  values(r: PipelineResources): { readonly [F in keyof (typeof SERVICE_VARIABLES)[S]]: string };
  grant(r: PipelineResources, fn: iam.IGrantable, access: ServiceAccess[S]): void;
}

const allow = (fn: iam.IGrantable, actions: string[], resources: string[]) =>
  fn.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));

/** Object actions on the keys of `bucket`, bucket actions on the bucket itself. */
function onBucket(
  fn: iam.IGrantable,
  bucket: s3.IBucket,
  actions: { objects?: string[]; bucket?: string[] },
) {
  if (actions.objects) allow(fn, actions.objects, [bucket.arnForObjects('*')]);
  if (actions.bucket) allow(fn, actions.bucket, [bucket.bucketArn]);
}

/** A service that encrypts with a project key on a function's behalf. */
export type KeyService = 's3' | 'dynamodb' | 'sqs';

/** What a service does with the key for a function: read (decrypt) or also write (encrypt). */
const KEY_ACTIONS = {
  decrypt: ['kms:Decrypt'],
  encrypt: ['kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
  'encrypt-decrypt': ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
} as const;

/**
 * Lets `fn` use `key` only through `service` (`kms:ViaService`): S3 SSE-KMS, DynamoDB or SQS
 * encryption at rest, on the function's behalf; never a direct KMS call with that key.
 * DynamoDB also describes the key.
 */
export function grantKeyThrough(
  fn: iam.IGrantable,
  key: kms.IKey | undefined,
  service: KeyService,
  use: keyof typeof KEY_ACTIONS,
): void {
  if (!key) return;
  const actions: string[] = [...KEY_ACTIONS[use]];
  if (service === 'dynamodb') actions.push('kms:DescribeKey');
  fn.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions,
      resources: [key.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `${service}.${Stack.of(key).region}.amazonaws.com` },
      },
    }),
  );
}

/** The item actions of a read-write grant on a table (as CDK's `grantReadWriteData`). */
const READ_WRITE_ITEMS = [
  'dynamodb:BatchGetItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:Query',
  'dynamodb:GetItem',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:DescribeTable',
];

/** Item actions on `table`; DynamoDB decrypts (and on writes encrypts) with the table's key. */
function onItems(fn: iam.IGrantable, table: dynamodb.ITable, actions: string[], writes: boolean) {
  table.grant(fn, ...actions);
  grantKeyThrough(fn, table.encryptionKey, 'dynamodb', writes ? 'encrypt-decrypt' : 'decrypt');
}

/** The queue actions of sending (as CDK's `grantSendMessages`). */
const SEND_MESSAGES = ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'];

/** Sends to `queue`; SQS encrypts with the queue's key. */
export function sendTo(fn: iam.IGrantable, queue: sqs.IQueue): void {
  queue.grant(fn, ...SEND_MESSAGES);
  grantKeyThrough(fn, queue.encryptionMasterKey, 'sqs', 'encrypt-decrypt');
}

// Every use of the documents key must carry the tenant as encryption context, so a function
// cannot unwrap a tenant key without naming the controller it acts for.
function onTenantKeys(fn: iam.IGrantable, key: kms.IKey, actions: string[]) {
  fn.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions,
      resources: [key.keyArn],
      conditions: { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] } },
    }),
  );
}

// HEAD of a log object tells a replay from a lost write: s3:GetObject, and s3:ListBucket so that
// a missing object answers 404 rather than 403. Reading one back (`append-read`) also decrypts.
const log: ServiceBinding<'log'> = {
  values: (r) => ({ bucket: r.logBucket.bucketName }),
  grant: (r, fn, access) => {
    onBucket(fn, r.logBucket, {
      objects: ['s3:PutObject', 's3:GetObject'],
      bucket: ['s3:ListBucket'],
    });
    grantKeyThrough(
      fn,
      r.logBucket.encryptionKey,
      's3',
      access === 'append-read' ? 'encrypt-decrypt' : 'encrypt',
    );
  },
};

const vault: ServiceBinding<'vault'> = {
  values: (r) => ({
    bucket: r.vaultBucket.bucketName,
    keyStoreTable: r.keyStore.tableName,
    wrappingKeyId: r.documentsKey.keyArn,
  }),
  grant: (r, fn, access) => {
    const bucket = r.vaultBucket;
    const deleteVersions = ['s3:DeleteObject', 's3:DeleteObjectVersion'];
    if (access === 'delete' || access === 'reconcile') {
      onBucket(fn, bucket, { objects: deleteVersions, bucket: ['s3:ListBucketVersions'] });
      onItems(fn, r.keyStore, ['dynamodb:Query', 'dynamodb:DeleteItem'], true);
      if (access === 'delete') return;
      // An object's metadata (HEAD: s3:GetObject, and s3:ListBucket to be told 404 rather than
      // 403), never its content: no grant on the bucket's key nor the documents key. The id of
      // a subject key is read from the key store without unwrapping it.
      onBucket(fn, bucket, { objects: ['s3:GetObject'], bucket: ['s3:ListBucket'] });
      onItems(fn, r.keyStore, ['dynamodb:GetItem'], true);
      return;
    }
    if (access === 'read') {
      onBucket(fn, bucket, { objects: ['s3:GetObject'], bucket: ['s3:ListBucket'] });
      grantKeyThrough(fn, bucket.encryptionKey, 's3', 'decrypt');
    } else {
      // An upload older than an erasure removes what a crashed earlier attempt stored. Documents
      // are written by multipart upload (aborted on failure), for which S3 also decrypts the data
      // key of the parts.
      onBucket(fn, bucket, {
        objects: ['s3:PutObject', 's3:AbortMultipartUpload', ...deleteVersions],
        bucket: ['s3:ListBucketVersions'],
      });
      grantKeyThrough(fn, bucket.encryptionKey, 's3', 'encrypt-decrypt');
    }
    // Reading and writing unwrap subject keys, and create the tenant's wrapping key if missing.
    onItems(fn, r.keyStore, ['dynamodb:GetItem', 'dynamodb:PutItem'], true);
    onTenantKeys(fn, r.documentsKey, ['kms:Decrypt', 'kms:GenerateDataKey']);
  },
};

/** Removes every version of objects of a bucket (listing versions), without reading any. */
const deleteEveryVersion = (fn: iam.IGrantable, bucket: s3.IBucket) =>
  onBucket(fn, bucket, {
    objects: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
    bucket: ['s3:ListBucketVersions'],
  });

const uploads: ServiceBinding<'uploads'> = {
  values: (r) => ({
    bucket: r.uploadBucket.bucketName,
    maxDocumentBytes: String(r.maxDocumentBytes),
  }),
  grant: (r, fn, access) => {
    if (access === 'name') return;
    if (access === 'delete') return deleteEveryVersion(fn, r.uploadBucket);
    onBucket(fn, r.uploadBucket, {
      objects: ['s3:GetObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      bucket: ['s3:ListBucket', 's3:ListBucketVersions'],
    });
    grantKeyThrough(fn, r.uploadBucket.encryptionKey, 's3', 'decrypt');
  },
};

function operationQueuesOf(r: PipelineResources): Readonly<Record<QueueOperation, sqs.IQueue>> {
  if (!r.operationQueues) {
    throw new Error(
      'operationQueues: build the queue-fed operations before the functions that forward to them',
    );
  }
  return r.operationQueues;
}

/**
 * Documents one invocation of an operation takes before it continues on its own queue. A page's log
 * entries are stored in one idempotency item (DynamoDB: 400 KB at most), about 0.5 KB each: 1,000
 * documents overflowed it.
 */
export const PAGE_DOCUMENTS = 250;

/**
 * The own queue of a function is built with it (`DeclaredFunction`), after its environment: the
 * construct replaces this value with the queue's URL and grants the send on that queue alone.
 */
export const OWN_QUEUE_URL_PENDING = 'set-by-declared-function';

/** Every service: its variables' values from the resources, and its grants per access. */
const BINDINGS: { readonly [S in ServiceName]: ServiceBinding<S> } = {
  log,
  pseudonyms: {
    values: (r) => ({ keyId: r.pseudonymKey.keyArn }),
    grant: (r, fn) => r.pseudonymKey.grant(fn, 'kms:GenerateMac'),
  },
  idempotency: {
    values: (r) => ({ table: r.idempotencyTable.tableName }),
    grant: (r, fn) => onItems(fn, r.idempotencyTable, READ_WRITE_ITEMS, true),
  },
  deadLetters: {
    values: (r) => ({ queueUrl: r.deadLetterQueue.queueUrl }),
    grant: (r, fn) => sendTo(fn, r.deadLetterQueue),
  },
  store: {
    values: (r) => ({ table: r.retentionTable.tableName }),
    grant: (r, fn) => onItems(fn, r.retentionTable, READ_WRITE_ITEMS, true),
  },
  vault,
  uploads,
  exports: {
    values: (r) => ({ bucket: r.exportBucket.bucketName }),
    grant: (r, fn, access) => {
      if (access === 'delete') return deleteEveryVersion(fn, r.exportBucket);
      // Documents are exported by multipart upload (aborted on failure), for which S3 also
      // decrypts the data key of the parts; an export of many pages reads back the manifest parts
      // its earlier pages wrote.
      onBucket(fn, r.exportBucket, {
        objects: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'],
        bucket: ['s3:ListBucket'],
      });
      grantKeyThrough(fn, r.exportBucket.encryptionKey, 's3', 'encrypt-decrypt');
    },
  },
  policy: { values: () => ({}), grant: () => undefined },
  producers: { values: () => ({}), grant: () => undefined },
  // The checkpointer lists and reads the log, writes checkpoint entries, and signs with the
  // checkpoint key (whose key policy names its role: see CheckpointSigningKey).
  checkpoints: {
    values: (r) => ({ bucket: r.logBucket.bucketName, keyId: r.checkpointKey.keyArn }),
    grant: (r, fn) => {
      onBucket(fn, r.logBucket, {
        objects: ['s3:GetObject', 's3:PutObject'],
        bucket: ['s3:ListBucket'],
      });
      grantKeyThrough(fn, r.logBucket.encryptionKey, 's3', 'encrypt-decrypt');
      allow(fn, ['kms:Sign', 'kms:GetPublicKey'], [r.checkpointKey.keyArn]);
    },
  },
  continuations: {
    values: () => ({ queueUrl: OWN_QUEUE_URL_PENDING, pageDocuments: String(PAGE_DOCUMENTS) }),
    grant: () => undefined,
  },
  operationQueues: {
    values: (r) => {
      const queues = operationQueuesOf(r);
      return Object.fromEntries(
        QUEUE_OPERATIONS.map((operation) => [operation, queues[operation].queueUrl]),
      ) as Record<QueueOperation, string>;
    },
    grant: (r, fn) => {
      const queues = operationQueuesOf(r);
      for (const operation of QUEUE_OPERATIONS) sendTo(fn, queues[operation]);
    },
  },
};

function bindingOf<S extends ServiceName>(service: S): ServiceBinding<S> {
  return BINDINGS[service] as ServiceBinding<S>;
}

/**
 * The environment of a declared function: the variables of its services that its accesses need
 * (`variablesOf`), valued from the resources. Nothing for a service it does not declare.
 */
export function environmentOf(
  declaration: FunctionDeclaration,
  resources: PipelineResources,
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const service of servicesOf(declaration)) {
    const names = variablesOf(service, accessOf(declaration, service));
    const values: Readonly<Record<string, string>> = bindingOf(service).values(resources);
    for (const [field, name] of Object.entries(names)) environment[name] = values[field];
  }
  return environment;
}

/** Grants `fn` what each service of its declaration needs for the access declared. */
export function grantServices(
  declaration: FunctionDeclaration,
  resources: PipelineResources,
  fn: iam.IGrantable,
): void {
  for (const service of servicesOf(declaration)) {
    grantService(service, accessOf(declaration, service), resources, fn);
  }
}

function grantService<S extends ServiceName>(
  service: S,
  access: ServiceAccess[S],
  resources: PipelineResources,
  fn: iam.IGrantable,
): void {
  bindingOf(service).grant(resources, fn, access);
}
