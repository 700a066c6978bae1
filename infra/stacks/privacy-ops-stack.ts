import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DeploymentConfig } from '../config';
import { PipelineFunction } from '../constructs/pipeline-function';
import { SecureBucket } from '../constructs/secure-bucket';
import { QueueFedFunction } from '../constructs/queue-fed-function';
import { SecureQueue } from '../constructs/secure-queue';

/** Properties of the {@link PrivacyOpsStack}. */
export interface PrivacyOpsStackProps extends StackProps {
  /** Validated deployment configuration. */
  readonly config: DeploymentConfig;
}

/** Function timeout shared by the queue consumers; queues wait six times longer. */
const CONSUMER_TIMEOUT = Duration.seconds(30);

/** The privacy-ops pipeline in one EU region. */
export class PrivacyOpsStack extends Stack {
  constructor(scope: Construct, id: string, props: PrivacyOpsStackProps) {
    super(scope, id, props);
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
      description: 'privacy-ops: encrypts queues, tables and the landing/export buckets',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const pseudonymKey = new kms.Key(this, 'PseudonymKey', {
      description: 'privacy-ops: HMAC key deriving the subject pseudonyms of the processing log',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // --- Buckets ----------------------------------------------------------------------------
    const accessLogs = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const upload = new SecureBucket(this, 'UploadBucket', {
      encryptionKey: dataKey,
      serverAccessLogsBucket: accessLogs,
      lifecycleRules: [
        {
          id: 'abandoned-uploads',
          expiration: Duration.days(7),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
    }).bucket;
    const vault = new SecureBucket(this, 'VaultBucket', {
      encryptionKey: documentsKey,
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
    const idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: dataKey,
      timeToLiveAttribute: 'expiration',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const keyStore = new dynamodb.Table(this, 'KeyStoreTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: documentsKey,
      pointInTimeRecoverySpecification: {
        pointInTimeRecoveryEnabled: true,
        recoveryPeriodInDays: 1,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // --- Queues -----------------------------------------------------------------------------
    const ingress = new SecureQueue(this, 'Ingress', {
      encryptionKey: dataKey,
      visibilityTimeout: Duration.seconds(CONSUMER_TIMEOUT.toSeconds() * 6),
    });
    const deadLetterQueue = ingress.deadLetterQueue;

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
    const consumer = (id: string, entry: string, environment: Record<string, string>) =>
      new QueueFedFunction(this, id, {
        entry,
        serviceName: entry.replace(/^functions\/|\.ts$/g, ''),
        timeout: CONSUMER_TIMEOUT,
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

    const retentionExpiry = new PipelineFunction(this, 'RetentionExpiry', {
      entry: 'functions/retention-expiry.ts',
      serviceName: 'retention-expiry',
      timeout: Duration.minutes(5),
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
      serviceName: 'retention-sweep',
      timeout: Duration.minutes(15),
      reservedConcurrentExecutions: 1,
      environment: { ...common, ...vaultEnv },
    }).function;
    new events.Rule(this, 'RetentionSweepSchedule', {
      description:
        'privacy-ops: expire retention items TTL has not removed yet (bound: one hour after expiry)',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new eventsTargets.LambdaFunction(retentionSweep, { retryAttempts: 2 })],
    });

    // Grants per operation: each function gets what its environment names, nothing more.
    const upFn = documentUpload.pipelineFunction.function;
    withLog(upFn);
    upload.grantRead(upFn);
    upload.grantDelete(upFn);
    vault.grantPut(upFn);
    retentionTable.grantReadWriteData(upFn);
    keyStore.grantReadWriteData(upFn);
    documentsKey.grant(upFn, 'kms:Decrypt', 'kms:GenerateDataKey');

    const closeFn = accountClosure.pipelineFunction.function;
    withLog(closeFn);
    vault.grantRead(closeFn);
    exportBucket.grantPut(closeFn);
    retentionTable.grantReadWriteData(closeFn);
    keyStore.grantReadData(closeFn);
    documentsKey.grant(closeFn, 'kms:Decrypt');

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
    documentsKey.grant(accessFn, 'kms:Decrypt');

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

    // --- Outputs (names fixed by the wire contract, EVENTS.md) ------------------------------
    const outputs: Record<string, string> = {
      IngressQueueUrl: ingress.queue.queueUrl,
      DeadLetterQueueUrl: ingress.deadLetterQueue.queueUrl,
      UploadBucketName: upload.bucketName,
      VaultBucketName: vault.bucketName,
      ExportBucketName: exportBucket.bucketName,
      LogBucketName: logBucket.bucketName,
      RetentionTableName: retentionTable.tableName,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }
}
