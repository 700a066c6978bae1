/** The part of a resource an IAM action applies to. */
export type ResourcePart = 'bucket' | 'object' | 'table' | 'index' | 'key' | 'queue';

/** What one SDK operation needs from IAM. */
export interface IamRequirement {
  /** Actions on the resource (or its objects / indexes). */
  readonly actions: ReadonlyArray<readonly [action: string, on: ResourcePart]>;
  /**
   * KMS actions on the key that encrypts the resource at rest (S3 SSE-KMS, SQS SSE-KMS). DynamoDB
   * uses the grant it holds on the table's key, so its callers need none.
   */
  readonly encryptionKey: readonly string[];
}

const s3 = (
  actions: IamRequirement['actions'],
  encryptionKey: readonly string[] = [],
): IamRequirement => ({ actions, encryptionKey });

/** Whether an input may name `field` (always, when the input is not a literal). */
const names = (input: readonly string[] | 'unknown', field: string) =>
  input === 'unknown' || input.includes(field);

/**
 * S3 actions of each operation, given the fields of its input. A missing key answers 404 only to
 * a caller allowed s3:ListBucket (403 otherwise): the code tells "not there" from a failure on
 * HEAD and GET, so those need ListBucket as well. A version id needs the `…Version` action; the
 * entries of DeleteObjects are not literal, so it needs both.
 */
const S3: Readonly<Record<string, (input: readonly string[] | 'unknown') => IamRequirement>> = {
  PutObject: () => s3([['s3:PutObject', 'object']], ['kms:GenerateDataKey']),
  // A multipart upload under SSE-KMS: S3 decrypts the data key to encrypt each part.
  CreateMultipartUpload: () =>
    s3([['s3:PutObject', 'object']], ['kms:GenerateDataKey', 'kms:Decrypt']),
  UploadPart: () => s3([['s3:PutObject', 'object']], ['kms:GenerateDataKey', 'kms:Decrypt']),
  CompleteMultipartUpload: () => s3([['s3:PutObject', 'object']]),
  AbortMultipartUpload: () => s3([['s3:AbortMultipartUpload', 'object']]),
  GetObject: (input) =>
    s3(
      [
        [names(input, 'VersionId') ? 's3:GetObjectVersion' : 's3:GetObject', 'object'],
        ['s3:ListBucket', 'bucket'],
      ],
      ['kms:Decrypt'],
    ),
  HeadObject: (input) =>
    s3([
      [names(input, 'VersionId') ? 's3:GetObjectVersion' : 's3:GetObject', 'object'],
      ['s3:ListBucket', 'bucket'],
    ]),
  DeleteObject: (input) =>
    s3([[names(input, 'VersionId') ? 's3:DeleteObjectVersion' : 's3:DeleteObject', 'object']]),
  DeleteObjects: () =>
    s3([
      ['s3:DeleteObject', 'object'],
      ['s3:DeleteObjectVersion', 'object'],
    ]),
  ListObjectVersions: () => s3([['s3:ListBucketVersions', 'bucket']]),
  ListObjectsV2: () => s3([['s3:ListBucket', 'bucket']]),
};

/** DynamoDB item actions of each operation (low-level and document-client names). */
const DYNAMODB_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  GetItem: ['dynamodb:GetItem'],
  PutItem: ['dynamodb:PutItem'],
  UpdateItem: ['dynamodb:UpdateItem'],
  DeleteItem: ['dynamodb:DeleteItem'],
  Query: ['dynamodb:Query'],
  Scan: ['dynamodb:Scan'],
  BatchGetItem: ['dynamodb:BatchGetItem'],
  BatchWriteItem: ['dynamodb:BatchWriteItem'],
  // A transaction is authorized item by item, with the action of each of its parts.
  TransactWriteItems: [
    'dynamodb:ConditionCheckItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
  TransactGetItems: ['dynamodb:GetItem'],
};
const DOCUMENT_CLIENT: Readonly<Record<string, string>> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  Query: 'Query',
  Scan: 'Scan',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactWrite: 'TransactWriteItems',
  TransactGet: 'TransactGetItems',
};

const KMS: Readonly<Record<string, string>> = {
  GenerateMac: 'kms:GenerateMac',
  Decrypt: 'kms:Decrypt',
  Encrypt: 'kms:Encrypt',
  GenerateDataKey: 'kms:GenerateDataKey',
  Sign: 'kms:Sign',
  GetPublicKey: 'kms:GetPublicKey',
};

// Sending to a KMS-encrypted queue: the producer needs GenerateDataKey and Decrypt on its key.
const SQS_SEND: IamRequirement = {
  actions: [['sqs:SendMessage', 'queue']],
  encryptionKey: ['kms:GenerateDataKey', 'kms:Decrypt'],
};
const SQS: Readonly<Record<string, IamRequirement>> = {
  SendMessage: SQS_SEND,
  SendMessageBatch: SQS_SEND,
};

/** The AWS service of an SDK package (`client-s3` → `s3`, `lib-dynamodb` → `dynamodb`). */
export function serviceOf(sdk: string): string {
  return sdk === 'lib-dynamodb' ? 'dynamodb' : sdk.replace(/^client-/, '');
}

/**
 * The IAM actions an SDK operation needs, or undefined when this table does not know it (the
 * test then fails, asking for the operation to be mapped).
 */
export function iamRequirement(
  sdk: string,
  operation: string,
  input: readonly string[] | 'unknown',
): IamRequirement | undefined {
  switch (serviceOf(sdk)) {
    case 's3':
      return S3[operation]?.(input);
    case 'kms':
      return KMS[operation] ? { actions: [[KMS[operation], 'key']], encryptionKey: [] } : undefined;
    case 'sqs':
      return SQS[operation];
    case 'dynamodb': {
      const low = sdk === 'lib-dynamodb' ? DOCUMENT_CLIENT[operation] : operation;
      const actions = low ? DYNAMODB_ACTIONS[low] : undefined;
      if (!actions) return undefined;
      // A query or scan names its index in the input; one that may, needs the indexes too.
      const indexed = (low === 'Query' || low === 'Scan') && names(input, 'IndexName');
      const on: ResourcePart[] = !indexed
        ? ['table']
        : input === 'unknown'
          ? ['table', 'index']
          : ['index'];
      return {
        actions: actions.flatMap((a) => on.map((part) => [a, part] as const)),
        encryptionKey: [],
      };
    }
    default:
      return undefined;
  }
}
