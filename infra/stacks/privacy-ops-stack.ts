import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DeploymentConfig } from '../config';
import { PipelineFunction } from '../constructs/pipeline-function';
import { SecureBucket } from '../constructs/secure-bucket';
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
        { id: 'abandoned-uploads', expiration: Duration.days(7), noncurrentVersionExpiration: Duration.days(1) },
      ],
    }).bucket;
    const vault = new SecureBucket(this, 'VaultBucket', {
      encryptionKey: documentsKey,
      serverAccessLogsBucket: accessLogs,
    }).bucket;
    const exportBucket = new SecureBucket(this, 'ExportBucket', {
      encryptionKey: dataKey,
      serverAccessLogsBucket: accessLogs,
      lifecycleRules: [{ id: 'expire-exports', expiration: Duration.days(30), noncurrentVersionExpiration: Duration.days(1) }],
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
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 1 },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // --- Queues -----------------------------------------------------------------------------
    const ingress = new SecureQueue(this, 'Ingress', {
      encryptionKey: dataKey,
      visibilityTimeout: Duration.seconds(CONSUMER_TIMEOUT.toSeconds() * 6),
    });
    const uploadQueue = new SecureQueue(this, 'DocumentUploadQueue', {
      encryptionKey: dataKey,
      visibilityTimeout: Duration.seconds(CONSUMER_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: ingress.deadLetterQueue,
    });

    // --- Functions --------------------------------------------------------------------------
    const intake = new PipelineFunction(this, 'Intake', {
      entry: 'functions/intake.ts',
      serviceName: 'intake',
      timeout: CONSUMER_TIMEOUT,
      environment: {
        DEAD_LETTER_QUEUE_URL: ingress.deadLetterQueue.queueUrl,
        DOCUMENT_UPLOAD_QUEUE_URL: uploadQueue.queue.queueUrl,
        UPLOAD_BUCKET_NAME: upload.bucketName,
        LOG_BUCKET_NAME: logBucket.bucketName,
      },
    }).function;
    ingress.deadLetterQueue.grantSendMessages(intake);
    uploadQueue.queue.grantSendMessages(intake);
    logBucket.grantPut(intake);
    intake.addEventSource(
      new lambdaEventSources.SqsEventSource(ingress.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
      }),
    );

    const documentUpload = new PipelineFunction(this, 'DocumentUpload', {
      entry: 'functions/document-upload.ts',
      serviceName: 'document-upload',
      timeout: CONSUMER_TIMEOUT,
      environment: {
        UPLOAD_BUCKET_NAME: upload.bucketName,
        VAULT_BUCKET_NAME: vault.bucketName,
        LOG_BUCKET_NAME: logBucket.bucketName,
        RETENTION_TABLE_NAME: retentionTable.tableName,
      },
    }).function;
    upload.grantRead(documentUpload);
    upload.grantDelete(documentUpload);
    vault.grantPut(documentUpload);
    logBucket.grantPut(documentUpload);
    retentionTable.grantWriteData(documentUpload);
    documentUpload.addEventSource(
      new lambdaEventSources.SqsEventSource(uploadQueue.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
      }),
    );
    void idempotencyTable;
    void keyStore;
    void pseudonymKey;

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
