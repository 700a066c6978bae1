import { Duration, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PurposeKey } from './purpose-key';
import { SecureBucket } from './secure-bucket';
import { QUEUE_RETENTION_DAYS } from './secure-queue';
import { SecureTable } from './secure-table';

/** Keys, separated by purpose, so that a grant on one never reaches the data of another. */
export function purposeKeys(scope: Construct) {
  return {
    documents: new PurposeKey(scope, 'DocumentsKey', {
      purpose: 'wraps the per-subject document keys of the vault',
    }).key,
    log: new PurposeKey(scope, 'LogKey', { purpose: 'encrypts the processing log' }).key,
    data: new PurposeKey(scope, 'DataKey', {
      purpose: 'encrypts queues, tables and the landing/vault/export buckets',
    }).key,
    operations: new PurposeKey(scope, 'OperationsKey', {
      purpose: 'encrypts the function log groups and the alarm topic',
      forCloudWatchLogs: true,
    }).key,
    pseudonym: new PurposeKey(scope, 'PseudonymKey', {
      purpose: 'HMAC key deriving the subject pseudonyms of the processing log',
      kind: 'hmac',
    }).key,
  };
}

/** The buckets: access logs, landing (upload), vault, export and the processing log under Object Lock. */
export function pipelineBuckets(
  scope: Construct,
  keys: { data: kms.IKey; log: kms.IKey },
  logRetentionDays: number,
) {
  const accessLogs: s3.IBucket = new SecureBucket(scope, 'AccessLogBucket', {
    serverAccessLogTarget: true,
    lifecycleRules: [
      {
        id: 'expire-access-logs',
        expiration: Duration.days(400),
        noncurrentVersionExpiration: Duration.days(1),
      },
    ],
  }).bucket;
  const expiring = (id: string, days: number): s3.LifecycleRule => ({
    id,
    expiration: Duration.days(days),
    noncurrentVersionExpiration: Duration.days(1),
    abortIncompleteMultipartUploadAfter: Duration.days(1),
  });
  const logged = { serverAccessLogsBucket: accessLogs };
  return {
    accessLogs,
    upload: new SecureBucket(scope, 'UploadBucket', {
      ...logged,
      encryptionKey: keys.data,
      // An upload outlives its event: up to the queue retention in a queue, then again in the
      // dead-letter queue until a redrive, plus a margin of two days.
      lifecycleRules: [expiring('abandoned-uploads', 2 * QUEUE_RETENTION_DAYS + 2)],
    }).bucket,
    // Vault objects are envelope-encrypted by the application (per-subject data keys wrapped
    // under the documents key with the tenant as encryption context); SSE uses the data key so
    // that no grant on the documents key comes without the tenant condition.
    vault: new SecureBucket(scope, 'VaultBucket', { ...logged, encryptionKey: keys.data }).bucket,
    export: new SecureBucket(scope, 'ExportBucket', {
      ...logged,
      encryptionKey: keys.data,
      lifecycleRules: [expiring('expire-exports', 30)],
    }).bucket,
    log: new SecureBucket(scope, 'LogBucket', {
      ...logged,
      encryptionKey: keys.log,
      objectLockComplianceDays: logRetentionDays,
    }).bucket,
  };
}

/** The tables: retention (TTL, stream, expiry and request indexes), idempotency and key store. */
export function pipelineTables(scope: Construct, key: kms.IKey) {
  const text = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
  const retention = new SecureTable(scope, 'RetentionTable', {
    encryptionKey: key,
    partitionKey: text('pk'),
    sortKey: text('sk'),
    timeToLiveAttribute: 'expiresAt',
    stream: dynamodb.StreamViewType.OLD_IMAGE,
    globalSecondaryIndexes: [
      {
        indexName: 'by-expiry',
        partitionKey: text('expiryShard'),
        sortKey: { name: 'expiresAt', type: dynamodb.AttributeType.NUMBER },
        // The sweeper reads each hit's item itself (consistent): the index holds keys only.
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      },
      // Sparse: only open data-subject requests carry openRequestShard (overdue requests).
      {
        indexName: 'open-requests',
        partitionKey: text('openRequestShard'),
        sortKey: text('deadline'),
      },
      // Sparse: only documents whose clock waits for a closure carry waitingShard; the sweeper
      // reads counts and the oldest upload time: keys only.
      {
        indexName: 'waiting-for-closure',
        partitionKey: text('waitingShard'),
        sortKey: text('eventTime'),
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      },
    ],
    noBackupPlanReason:
      'Protected by point-in-time recovery (35 days) and RETAIN; an AWS Backup plan would keep ' +
      'erased retention entries in snapshots beyond the erasure the pipeline promises.',
  }).table;
  const idempotency = new SecureTable(scope, 'IdempotencyTable', {
    encryptionKey: key,
    partitionKey: text('id'),
    timeToLiveAttribute: 'expiration',
    noBackupPlanReason:
      'Holds only short-lived idempotency records (TTL); losing it costs at most a re-processing ' +
      'that the operations tolerate; PITR is on.',
  }).table;
  // Point-in-time recovery of the key store is kept at its 1-day minimum: a shredded key can be
  // restored from PITR for at most one day (docs/deploying.md).
  const keyStore = new SecureTable(scope, 'KeyStoreTable', {
    encryptionKey: key,
    partitionKey: text('pk'),
    sortKey: text('sk'),
    pointInTimeRecoveryDays: 1,
    noBackupPlanReason:
      'Crypto-shredding deletes keys from this table; a backup plan would keep shredded keys ' +
      'restorable for its whole retention. Only the 1-day PITR window is accepted.',
  }).table;
  return { retention, idempotency, keyStore };
}

/** Failed stream batches (on-failure records) and failed schedule runs: metadata only. */
export function invocationFailureQueue(scope: Construct, key: kms.IKey): sqs.IQueue {
  const queue = new sqs.Queue(scope, 'InvocationFailureQueue', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  for (const id of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
    Validations.of(queue).acknowledge({
      id,
      reason:
        'Terminal failure queue: it receives the on-failure records of the retention stream and ' +
        'failed schedule runs (metadata only); operators read it, alarmed at depth > 0.',
    });
  }
  return queue;
}
