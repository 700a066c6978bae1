import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeploymentConfig } from '../config';
import { PipelineAlarms } from '../constructs/pipeline-alarms';
import { PipelineFunction } from '../constructs/pipeline-function';
import { ProcessingLogCatalog } from '../constructs/processing-log-catalog';
import { SecureBucket } from '../constructs/secure-bucket';
import {
  acknowledgeSqsMappingDestination,
  QueueFedFunction,
} from '../constructs/queue-fed-function';
import { SecureQueue } from '../constructs/secure-queue';
import { OVERDUE_REQUESTS_METRIC } from '../../shared/operations/overdue-requests';

/** Properties of the {@link PrivacyOpsStack}. */
export interface PrivacyOpsStackProps extends StackProps {
  /** Validated deployment configuration. */
  readonly config: DeploymentConfig;
}

/** Function timeout shared by the queue consumers; queues wait six times longer. */
const CONSUMER_TIMEOUT = Duration.seconds(30);

/** DynamoDB backup-plan rule ids (AWS Backup); see the reason given per table. */
const BACKUP_PLAN_RULES = [
  'HIPAA.Security-DynamoDBInBackupPlan',
  'NIST.800.53.R5-DynamoDBInBackupPlan',
];

/**
 * The privacy-ops pipeline in one EU region: keys by purpose, buckets, tables, queues, one
 * function per operation, the auditors' catalog and the alarms.
 */
export class PrivacyOpsStack extends Stack {
  constructor(scope: Construct, id: string, props: PrivacyOpsStackProps) {
    super(scope, id, props);
    // Server access logs are delivered by bucket policy (logging.s3.amazonaws.com), not ACLs.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const { config } = props;

    // --- Keys, separated by purpose -------------------------------------------------------
    const documentsKey = new kms.Key(this, 'DocumentsKey', {
      description: 'privacy-ops: wraps the per-subject document keys of the vault',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logKey = new kms.Key(this, 'LogKey', {
      description: 'privacy-ops: encrypts the processing log',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const dataKey = new kms.Key(this, 'DataKey', {
      description: 'privacy-ops: encrypts queues, tables and the landing/vault/export buckets',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const opsKey = new kms.Key(this, 'OperationsKey', {
      description: 'privacy-ops: encrypts the function log groups and the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    opsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:*`,
          },
        },
      }),
    );
    const pseudonymKey = new kms.Key(this, 'PseudonymKey', {
      description: 'privacy-ops: HMAC key deriving the subject pseudonyms of the processing log',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // --- Buckets ----------------------------------------------------------------------------
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
    const upload = new SecureBucket(this, 'UploadBucket', {
      encryptionKey: dataKey,
      serverAccessLogsBucket: accessLogs,
      lifecycleRules: [
        {
          id: 'abandoned-uploads',
          expiration: Duration.days(7),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    }).bucket;
    // Vault objects are envelope-encrypted by the application (per-subject data keys wrapped under
    // the documents key with the tenant as encryption context); SSE uses the data key so that no
    // grant on the documents key comes without the tenant condition.
    const vault = new SecureBucket(this, 'VaultBucket', {
      encryptionKey: dataKey,
      serverAccessLogsBucket: accessLogs,
    }).bucket;
    const exportBucket = new SecureBucket(this, 'ExportBucket', {
      encryptionKey: dataKey,
      serverAccessLogsBucket: accessLogs,
      lifecycleRules: [
        {
          id: 'expire-exports',
          expiration: Duration.days(30),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    }).bucket;
    const logBucket = new SecureBucket(this, 'LogBucket', {
      encryptionKey: logKey,
      serverAccessLogsBucket: accessLogs,
      objectLockComplianceDays: config.logRetentionDays,
    }).bucket;

    // --- Tables -----------------------------------------------------------------------------
    const retentionTable = new dynamodb.Table(this, 'RetentionTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: dataKey,
      timeToLiveAttribute: 'expiresAt',
      stream: dynamodb.StreamViewType.OLD_IMAGE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    retentionTable.addGlobalSecondaryIndex({
      indexName: 'by-expiry',
      partitionKey: { name: 'expiryShard', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'expiresAt', type: dynamodb.AttributeType.NUMBER },
    });
    // Sparse: only open data-subject requests carry openRequestShard (P15: overdue requests).
    retentionTable.addGlobalSecondaryIndex({
      indexName: 'open-requests',
      partitionKey: { name: 'openRequestShard', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'deadline', type: dynamodb.AttributeType.STRING },
    });
    const idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: dataKey,
      timeToLiveAttribute: 'expiration',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Point-in-time recovery of the key store is kept at its 1-day minimum: a shredded key can be
    // restored from PITR for at most one day (docs/deploying.md).
    const keyStore = new dynamodb.Table(this, 'KeyStoreTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: dataKey,
      pointInTimeRecoverySpecification: {
        pointInTimeRecoveryEnabled: true,
        recoveryPeriodInDays: 1,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const backupReasons: Array<[dynamodb.Table, string]> = [
      [
        retentionTable,
        'Protected by point-in-time recovery (35 days) and RETAIN; an AWS Backup plan would keep ' +
          'erased retention entries in snapshots beyond the erasure the pipeline promises (P6).',
      ],
      [
        idempotencyTable,
        'Holds only short-lived idempotency records (TTL); losing it costs at most a re-processing ' +
          'that the operations tolerate; PITR is on.',
      ],
      [
        keyStore,
        'Crypto-shredding deletes keys from this table; a backup plan would keep shredded keys ' +
          'restorable for its whole retention. Only the 1-day PITR window is accepted.',
      ],
    ];
    for (const [table, reason] of backupReasons) {
      for (const id of BACKUP_PLAN_RULES) {
        Validations.of(table.node.defaultChild!).acknowledge({ id, reason });
      }
    }

    // --- Queues -----------------------------------------------------------------------------
    const ingress = new SecureQueue(this, 'Ingress', {
      encryptionKey: dataKey,
      consumerTimeout: CONSUMER_TIMEOUT,
    });
    const deadLetterQueue = ingress.deadLetterQueue;
    // Failed stream batches (on-failure records) and failed schedule runs: metadata only.
    const invocationFailures = new sqs.Queue(this, 'InvocationFailureQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: dataKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const id of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      Validations.of(invocationFailures).acknowledge({
        id,
        reason:
          'Terminal failure queue: it receives the on-failure records of the retention stream and ' +
          'failed schedule runs (metadata only); operators read it, alarmed at depth > 0.',
      });
    }

    // --- Functions: one per operation -------------------------------------------------------
    // Environment names are shared by all functions (the local runtime runs them in one process).
    const common = {
      LOG_BUCKET_NAME: logBucket.bucketName,
      PSEUDONYM_KEY_ID: pseudonymKey.keyArn,
      IDEMPOTENCY_TABLE_NAME: idempotencyTable.tableName,
      DEAD_LETTER_QUEUE_URL: deadLetterQueue.queueUrl,
    };
    const withLog = (fn: lambda.IFunction) => {
      logBucket.grantPut(fn);
      pseudonymKey.grant(fn, 'kms:GenerateMac');
      idempotencyTable.grantReadWriteData(fn);
      deadLetterQueue.grantSendMessages(fn);
    };
    const vaultEnv = {
      VAULT_BUCKET_NAME: vault.bucketName,
      KEY_STORE_TABLE_NAME: keyStore.tableName,
      DOCUMENTS_KEY_ID: documentsKey.keyArn,
      RETENTION_TABLE_NAME: retentionTable.tableName,
    };
    const logRetention = config.functionLogRetentionDays as logs.RetentionDays;
    const consumer = (id: string, entry: string, environment: Record<string, string>) =>
      new QueueFedFunction(this, id, {
        entry,
        serviceName: entry.replace(/^functions\/|\.ts$/g, ''),
        timeout: CONSUMER_TIMEOUT,
        logKey: opsKey,
        logRetention,
        queueKey: dataKey,
        deadLetterQueue,
        environment: { ...common, ...environment },
      });

    const documentUpload = consumer('DocumentUpload', 'functions/document-upload.ts', {
      ...vaultEnv,
      UPLOAD_BUCKET_NAME: upload.bucketName,
    });
    const accountClosure = consumer('AccountClosure', 'functions/account-closure.ts', {
      ...vaultEnv,
      EXPORT_BUCKET_NAME: exportBucket.bucketName,
    });
    const erasureRequest = consumer('ErasureRequest', 'functions/erasure-request.ts', vaultEnv);
    const accessRequest = consumer('AccessRequest', 'functions/access-request.ts', {
      ...vaultEnv,
      EXPORT_BUCKET_NAME: exportBucket.bucketName,
    });
    const legalHold = consumer('LegalHold', 'functions/legal-hold.ts', vaultEnv);

    const intake = new PipelineFunction(this, 'Intake', {
      entry: 'functions/intake.ts',
      serviceName: 'intake',
      timeout: CONSUMER_TIMEOUT,
      logKey: opsKey,
      logRetention,
      reservedConcurrentExecutions: 10,
      environment: {
        ...common,
        UPLOAD_BUCKET_NAME: upload.bucketName,
        DOCUMENT_UPLOAD_QUEUE_URL: documentUpload.queue.queueUrl,
        ACCOUNT_CLOSURE_QUEUE_URL: accountClosure.queue.queueUrl,
        ERASURE_REQUEST_QUEUE_URL: erasureRequest.queue.queueUrl,
        ACCESS_REQUEST_QUEUE_URL: accessRequest.queue.queueUrl,
        LEGAL_HOLD_QUEUE_URL: legalHold.queue.queueUrl,
      },
    }).function;
    withLog(intake);
    for (const op of [documentUpload, accountClosure, erasureRequest, accessRequest, legalHold]) {
      op.queue.grantSendMessages(intake);
    }
    intake.addEventSource(
      new lambdaEventSources.SqsEventSource(ingress.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        maxConcurrency: 10,
      }),
    );
    acknowledgeSqsMappingDestination(intake);

    const retentionExpiry = new PipelineFunction(this, 'RetentionExpiry', {
      entry: 'functions/retention-expiry.ts',
      serviceName: 'retention-expiry',
      timeout: Duration.minutes(5),
      logKey: opsKey,
      logRetention,
      environment: { ...common, ...vaultEnv },
    }).function;
    // Only deletions made by TTL (service principal dynamodb.amazonaws.com) reach the handler.
    retentionExpiry.addEventSource(
      new lambdaEventSources.DynamoEventSource(retentionTable, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(5),
        reportBatchItemFailures: true,
        retryAttempts: 10,
        bisectBatchOnError: true,
        onFailure: new lambdaEventSources.SqsDlq(invocationFailures),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('REMOVE'),
            userIdentity: {
              type: lambda.FilterRule.isEqual('Service'),
              principalId: lambda.FilterRule.isEqual('dynamodb.amazonaws.com'),
            },
          }),
        ],
      }),
    );

    const retentionSweep = new PipelineFunction(this, 'RetentionSweep', {
      entry: 'functions/retention-sweep.ts',
      // The service dimension of the OverdueRequests metric the alarm watches.
      serviceName: OVERDUE_REQUESTS_METRIC.service,
      timeout: Duration.minutes(15),
      logKey: opsKey,
      logRetention,
      reservedConcurrentExecutions: 1,
      deadLetterQueue: invocationFailures,
      environment: { ...common, ...vaultEnv },
    }).function;
    // A fixed name gives the key policy below the rule's ARN without a reference (no cycle).
    const sweepRuleName = `${this.stackName}-retention-sweep`;
    new events.Rule(this, 'RetentionSweepSchedule', {
      ruleName: sweepRuleName,
      description:
        'privacy-ops: expire retention items TTL has not removed yet (bound: one hour after expiry)',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [
        new eventsTargets.LambdaFunction(retentionSweep, {
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
          deadLetterQueue: invocationFailures,
        }),
      ],
    });
    // EventBridge writes failed deliveries to the KMS-encrypted failure queue.
    dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeDeadLetterDeliveryFromTheSweepSchedule',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          ArnEquals: {
            'aws:SourceArn': `arn:${this.partition}:events:${this.region}:${this.account}:rule/${sweepRuleName}`,
          },
        },
      }),
    );

    // The documents key wraps per-tenant keys; every use must carry the tenant as encryption
    // context, so a function cannot unwrap without naming the controller it acts for (P11).
    const grantTenantWrapping = (fn: lambda.IFunction, ...actions: string[]) =>
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions,
          resources: [documentsKey.keyArn],
          conditions: { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] } },
        }),
      );

    // Grants per operation: each function gets what its environment names, nothing more.
    const upFn = documentUpload.pipelineFunction.function;
    withLog(upFn);
    upload.grantRead(upFn);
    upload.grantDelete(upFn);
    vault.grantPut(upFn);
    // An upload older than an erasure removes what a crashed earlier attempt stored in the vault.
    vault.grantDelete(upFn);
    upFn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucketVersions'], resources: [vault.bucketArn] }),
    );
    retentionTable.grantReadWriteData(upFn);
    keyStore.grantReadWriteData(upFn);
    grantTenantWrapping(upFn, 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey');

    const closeFn = accountClosure.pipelineFunction.function;
    withLog(closeFn);
    vault.grantRead(closeFn);
    exportBucket.grantPut(closeFn);
    retentionTable.grantReadWriteData(closeFn);
    keyStore.grantReadData(closeFn);
    grantTenantWrapping(closeFn, 'kms:Decrypt');

    const eraseFn = erasureRequest.pipelineFunction.function;
    withLog(eraseFn);
    vault.grantRead(eraseFn);
    vault.grantDelete(eraseFn);
    retentionTable.grantReadWriteData(eraseFn);
    keyStore.grantReadWriteData(eraseFn);

    const accessFn = accessRequest.pipelineFunction.function;
    withLog(accessFn);
    vault.grantRead(accessFn);
    exportBucket.grantPut(accessFn);
    retentionTable.grantReadWriteData(accessFn);
    keyStore.grantReadData(accessFn);
    grantTenantWrapping(accessFn, 'kms:Decrypt');

    const holdFn = legalHold.pipelineFunction.function;
    withLog(holdFn);
    retentionTable.grantReadWriteData(holdFn);

    for (const fn of [retentionExpiry, retentionSweep]) {
      withLog(fn);
      vault.grantRead(fn);
      vault.grantDelete(fn);
      retentionTable.grantReadWriteData(fn);
      keyStore.grantReadWriteData(fn);
    }

    // --- Auditors: Glue table over the log, Athena workgroup, named queries (P9) -------------
    const catalog = new ProcessingLogCatalog(this, 'ProcessingLogCatalog', {
      logBucket,
      resultsKey: logKey,
      serverAccessLogsBucket: accessLogs,
    });

    // --- Alarms -----------------------------------------------------------------------------
    const alarms = new PipelineAlarms(this, 'Alarms', {
      topicKey: opsKey,
      alarmEmails: config.alarmEmails,
      deadLetterQueues: {
        DeadLetterQueue: deadLetterQueue,
        InvocationFailureQueue: invocationFailures,
      },
      workQueues: {
        IngressQueue: ingress.queue,
        DocumentUploadQueue: documentUpload.queue,
        AccountClosureQueue: accountClosure.queue,
        ErasureRequestQueue: erasureRequest.queue,
        AccessRequestQueue: accessRequest.queue,
        LegalHoldQueue: legalHold.queue,
      },
    });

    // --- Outputs (names fixed by the wire contract, EVENTS.md) ------------------------------
    const outputs: Record<string, string> = {
      IngressQueueUrl: ingress.queue.queueUrl,
      DeadLetterQueueUrl: ingress.deadLetterQueue.queueUrl,
      UploadBucketName: upload.bucketName,
      VaultBucketName: vault.bucketName,
      ExportBucketName: exportBucket.bucketName,
      LogBucketName: logBucket.bucketName,
      RetentionTableName: retentionTable.tableName,
      GlueDatabaseName: catalog.databaseName,
      GlueTableName: catalog.tableName,
      AthenaWorkGroupName: catalog.workGroupName,
      AlarmTopicArn: alarms.topic.topicArn,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }
}
