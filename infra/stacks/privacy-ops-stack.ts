import { CfnOutput, Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTIONS } from '../../shared/functions/declarations';
import {
  bundledProducerRegistry,
  type ProducerRegistry,
} from '../../shared/intake/producer-registry';
import { QUEUE_OPERATIONS, type QueueOperation } from '../../shared/operations/routes';
import { DeploymentConfig, partnerRegion } from '../config';
import { CheckpointReplication } from '../constructs/checkpoint-replication';
import { CheckpointSigningKey } from '../constructs/checkpoint-signing-key';
import { DeclaredFunction, type DeclaredFunctionProps } from '../constructs/declared-function';
import { PipelineAlarms } from '../constructs/pipeline-alarms';
import { ProducerAccess } from '../constructs/producer-access';
import { ProcessingLogCatalog } from '../constructs/processing-log-catalog';
import { PurposeKey } from '../constructs/purpose-key';
import { SecureBucket } from '../constructs/secure-bucket';
import { QUEUE_RETENTION_DAYS, SecureQueue } from '../constructs/secure-queue';
import { SecureTable } from '../constructs/secure-table';
import type { PipelineResources } from '../service-bindings';

/** Properties of the {@link PrivacyOpsStack}. */
export interface PrivacyOpsStackProps extends StackProps {
  /** Validated deployment configuration. */
  readonly config: DeploymentConfig;
  /**
   * Who may send events and upload documents, and for which tenants: the queue and bucket
   * policies admit only these producers. @default config/producers.json, as bundled into the intake
   */
  readonly producers?: ProducerRegistry;
}

/** `document-upload` → `DocumentUpload`. */
const pascal = (name: string) =>
  name.replace(/(^|-)([a-z])/g, (_, __: string, letter: string) => letter.toUpperCase());

/**
 * The privacy-ops pipeline in one EU region: keys by purpose, buckets, tables, queues, one
 * function per operation built from its declaration, the auditors' catalog and the alarms.
 */
export class PrivacyOpsStack extends Stack {
  constructor(scope: Construct, id: string, props: PrivacyOpsStackProps) {
    super(scope, id, props);
    // Server access logs are delivered by bucket policy (logging.s3.amazonaws.com), not ACLs.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const { config } = props;
    const keys = this.keys();
    const buckets = this.buckets(keys, config.logRetentionDays);
    const tables = this.tables(keys.data);
    const ingress = new SecureQueue(this, 'Ingress', {
      encryptionKey: keys.data,
      consumerTimeout: Duration.seconds(FUNCTIONS.intake.timeoutSeconds),
    });
    new ProducerAccess(this, 'ProducerAccess', {
      registry: props.producers ?? bundledProducerRegistry(),
      ingressQueue: ingress.queue,
      uploadBucket: buckets.upload,
      key: keys.data,
    });
    const invocationFailures = this.invocationFailureQueue(keys.data);
    const checkpointKey = new CheckpointSigningKey(this, 'CheckpointKey');
    const replication = new CheckpointReplication(this, 'CheckpointReplication', {
      logBucket: buckets.log,
      logKey: keys.log,
      anchorRegion: partnerRegion(config.region),
    });

    // --- Functions: one per declaration, with the variables and grants of its services -------
    const { operationQueues, checkpointer } = this.functions(
      {
        logBucket: buckets.log,
        pseudonymKey: keys.pseudonym,
        idempotencyTable: tables.idempotency,
        deadLetterQueue: ingress.deadLetterQueue,
        retentionTable: tables.retention,
        vaultBucket: buckets.vault,
        keyStore: tables.keyStore,
        documentsKey: keys.documents,
        uploadBucket: buckets.upload,
        exportBucket: buckets.export,
        checkpointKey: checkpointKey.key,
        maxDocumentBytes: config.maxDocumentBytes,
      },
      {
        logKey: keys.operations,
        queueKey: keys.data,
        logRetention: config.functionLogRetentionDays as logs.RetentionDays,
        ingressQueue: ingress.queue,
        failureQueue: invocationFailures,
      },
      config.scaling,
    );

    checkpointKey.allowSigningBy(checkpointer.role);

    // --- Auditors: Glue table over the log, Athena workgroup, named queries ------------------
    const catalog = new ProcessingLogCatalog(this, 'ProcessingLogCatalog', {
      logBucket: buckets.log,
      resultsKey: keys.log,
      serverAccessLogsBucket: buckets.accessLogs,
    });

    // --- Alarms -----------------------------------------------------------------------------
    const alarms = new PipelineAlarms(this, 'Alarms', {
      topicKey: keys.operations,
      alarmEmails: config.alarmEmails,
      waitingForClosureAlarmDays: config.waitingForClosureAlarmDays,
      deadLetterQueues: {
        DeadLetterQueue: ingress.deadLetterQueue,
        InvocationFailureQueue: invocationFailures,
      },
      workQueues: {
        IngressQueue: ingress.queue,
        ...Object.fromEntries(
          QUEUE_OPERATIONS.map((operation) => [
            `${pascal(operation)}Queue`,
            operationQueues[operation],
          ]),
        ),
      },
    });

    // --- Outputs (names fixed by the wire contract, EVENTS.md) ------------------------------
    const outputs: Record<string, string> = {
      IngressQueueUrl: ingress.queue.queueUrl,
      DeadLetterQueueUrl: ingress.deadLetterQueue.queueUrl,
      UploadBucketName: buckets.upload.bucketName,
      VaultBucketName: buckets.vault.bucketName,
      ExportBucketName: buckets.export.bucketName,
      LogBucketName: buckets.log.bucketName,
      RetentionTableName: tables.retention.tableName,
      GlueDatabaseName: catalog.databaseName,
      GlueTableName: catalog.tableName,
      AthenaWorkGroupName: catalog.workGroupName,
      AlarmTopicArn: alarms.topic.topicArn,
      CheckpointKeyId: checkpointKey.key.keyArn,
      CheckpointerFunctionName: checkpointer.function.functionName,
      CheckpointAnchorBucketName: replication.anchorBucketName,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }

  /**
   * One function per declaration: the queue-fed operations first (their queues are what the
   * intake forwards to), then the intake, the retention functions and the checkpointer. Each gets
   * the variables and the grants of the services it declares. Returns the operations' input
   * queues and the checkpointer.
   */
  private functions(
    resources: PipelineResources,
    shared: Omit<DeclaredFunctionProps, 'declaration' | 'resources' | 'scaling'>,
    scaling: DeploymentConfig['scaling'],
  ): { operationQueues: Record<QueueOperation, sqs.IQueue>; checkpointer: DeclaredFunction } {
    const { queueKey, ingressQueue, failureQueue, ...common } = shared;
    const operationQueues = {} as Record<QueueOperation, sqs.IQueue>;
    for (const operation of QUEUE_OPERATIONS) {
      operationQueues[operation] = new DeclaredFunction(this, pascal(operation), {
        ...common,
        resources,
        declaration: FUNCTIONS[operation],
        queueKey,
        scaling: scaling[operation],
      }).queue!;
    }
    new DeclaredFunction(this, 'Intake', {
      ...common,
      resources: { ...resources, operationQueues },
      declaration: FUNCTIONS.intake,
      ingressQueue,
      scaling: scaling.intake,
    });
    new DeclaredFunction(this, 'RetentionExpiry', {
      ...common,
      resources,
      declaration: FUNCTIONS['retention-expiry'],
      failureQueue,
    });
    new DeclaredFunction(this, 'RetentionSweep', {
      ...common,
      resources,
      declaration: FUNCTIONS['retention-sweep'],
      failureQueue,
      description:
        'privacy-ops: expire retention items TTL has not removed yet (bound: one hour after expiry)',
    });
    const checkpointer = new DeclaredFunction(this, 'Checkpointer', {
      ...common,
      resources,
      declaration: FUNCTIONS.checkpointer,
      failureQueue,
      description: 'privacy-ops: sign a checkpoint of the processing log (every 5 minutes)',
    });
    return { operationQueues, checkpointer };
  }

  /** Keys, separated by purpose, so that a grant on one never reaches the data of another. */
  private keys() {
    return {
      documents: new PurposeKey(this, 'DocumentsKey', {
        purpose: 'wraps the per-subject document keys of the vault',
      }).key,
      log: new PurposeKey(this, 'LogKey', { purpose: 'encrypts the processing log' }).key,
      data: new PurposeKey(this, 'DataKey', {
        purpose: 'encrypts queues, tables and the landing/vault/export buckets',
      }).key,
      operations: new PurposeKey(this, 'OperationsKey', {
        purpose: 'encrypts the function log groups and the alarm topic',
        forCloudWatchLogs: true,
      }).key,
      pseudonym: new PurposeKey(this, 'PseudonymKey', {
        purpose: 'HMAC key deriving the subject pseudonyms of the processing log',
        kind: 'hmac',
      }).key,
    };
  }

  private buckets(keys: { data: kms.IKey; log: kms.IKey }, logRetentionDays: number) {
    const accessLogs: s3.IBucket = new SecureBucket(this, 'AccessLogBucket', {
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
      upload: new SecureBucket(this, 'UploadBucket', {
        ...logged,
        encryptionKey: keys.data,
        // An upload outlives its event: up to the queue retention in a queue, then again in the
        // dead-letter queue until a redrive, plus a margin of two days.
        lifecycleRules: [expiring('abandoned-uploads', 2 * QUEUE_RETENTION_DAYS + 2)],
      }).bucket,
      // Vault objects are envelope-encrypted by the application (per-subject data keys wrapped
      // under the documents key with the tenant as encryption context); SSE uses the data key so
      // that no grant on the documents key comes without the tenant condition.
      vault: new SecureBucket(this, 'VaultBucket', { ...logged, encryptionKey: keys.data }).bucket,
      export: new SecureBucket(this, 'ExportBucket', {
        ...logged,
        encryptionKey: keys.data,
        lifecycleRules: [expiring('expire-exports', 30)],
      }).bucket,
      log: new SecureBucket(this, 'LogBucket', {
        ...logged,
        encryptionKey: keys.log,
        objectLockComplianceDays: logRetentionDays,
      }).bucket,
    };
  }

  private tables(key: kms.IKey) {
    const text = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    const retention = new SecureTable(this, 'RetentionTable', {
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
    const idempotency = new SecureTable(this, 'IdempotencyTable', {
      encryptionKey: key,
      partitionKey: text('id'),
      timeToLiveAttribute: 'expiration',
      noBackupPlanReason:
        'Holds only short-lived idempotency records (TTL); losing it costs at most a re-processing ' +
        'that the operations tolerate; PITR is on.',
    }).table;
    // Point-in-time recovery of the key store is kept at its 1-day minimum: a shredded key can be
    // restored from PITR for at most one day (docs/deploying.md).
    const keyStore = new SecureTable(this, 'KeyStoreTable', {
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
  private invocationFailureQueue(key: kms.IKey): sqs.IQueue {
    const queue = new sqs.Queue(this, 'InvocationFailureQueue', {
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
}
