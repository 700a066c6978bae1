import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DeclaredFunction } from '../../infra/constructs/declared-function';
import { PipelineAlarms } from '../../infra/constructs/pipeline-alarms';
import { ProcessingLogCatalog } from '../../infra/constructs/processing-log-catalog';
import { QueueFedFunction } from '../../infra/constructs/queue-fed-function';
import { SecureBucket } from '../../infra/constructs/secure-bucket';
import { PurposeKey } from '../../infra/constructs/purpose-key';
import { SecureQueue } from '../../infra/constructs/secure-queue';
import { SecureTable } from '../../infra/constructs/secure-table';
import type { PipelineResources } from '../../infra/service-bindings';
import { FUNCTIONS } from '../../shared/functions/declarations';

function scope() {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S', {
    env: { region: 'eu-west-3', account: '111111111111' },
  });
  return { stack, key: new kms.Key(stack, 'K'), logs: new s3.Bucket(stack, 'L') };
}

describe('constructs refuse insecure or inconsistent props', () => {
  it('SecureBucket: no key, no access logging, KMS on the log target, Object Lock without versioning', () => {
    const { stack, key, logs } = scope();
    expect(() => new SecureBucket(stack, 'A', { serverAccessLogsBucket: logs })).toThrow(
      /encryptionKey is required/,
    );
    expect(() => new SecureBucket(stack, 'B', { encryptionKey: key })).toThrow(
      /serverAccessLogsBucket is required/,
    );
    expect(
      () => new SecureBucket(stack, 'C', { encryptionKey: key, serverAccessLogTarget: true }),
    ).toThrow(/SSE-S3/);
    expect(
      () =>
        new SecureBucket(stack, 'D', {
          encryptionKey: key,
          serverAccessLogsBucket: logs,
          objectLockComplianceDays: 10,
          versioned: false,
        }),
    ).toThrow(/Object Lock requires versioning/);
  });

  it('SecureQueue: fewer than 5 receives, visibility under 6 × the consumer timeout', () => {
    const { stack, key } = scope();
    const consumerTimeout = Duration.seconds(30);
    expect(
      () =>
        new SecureQueue(stack, 'A', { encryptionKey: key, consumerTimeout, maxReceiveCount: 3 }),
    ).toThrow(/maxReceiveCount must be a whole number ≥ 5/);
    expect(
      () =>
        new SecureQueue(stack, 'B', {
          encryptionKey: key,
          consumerTimeout,
          visibilityTimeout: Duration.seconds(60),
        }),
    ).toThrow(/at least six times/);
  });

  it('QueueFedFunction: reserved concurrency below the mapping concurrency', () => {
    const { stack, key } = scope();
    const dlq = new SecureQueue(stack, 'Q', {
      encryptionKey: key,
      consumerTimeout: Duration.seconds(30),
    });
    expect(
      () =>
        new QueueFedFunction(stack, 'F', {
          entry: 'functions/intake.ts',
          serviceName: 'intake',
          logKey: key,
          queueKey: key,
          deadLetterQueue: dlq.deadLetterQueue,
          maxConcurrency: 5,
          reservedConcurrentExecutions: 2,
        }),
    ).toThrow(/must cover maxConcurrency/);
  });

  it('PipelineAlarms: bad e-mail, message age out of range', () => {
    const { stack, key } = scope();
    const q = new SecureQueue(stack, 'Q', {
      encryptionKey: key,
      consumerTimeout: Duration.seconds(30),
    });
    const base = {
      topicKey: key,
      deadLetterQueues: { D: q.deadLetterQueue },
      workQueues: { W: q.queue },
    };
    expect(() => new PipelineAlarms(stack, 'A', { ...base, alarmEmails: ['nope'] })).toThrow(
      /not an e-mail/,
    );
    expect(
      () => new PipelineAlarms(stack, 'B', { ...base, maxMessageAge: Duration.seconds(10) }),
    ).toThrow(/maxMessageAge/);
  });

  it('ProcessingLogCatalog: bad names, cutoff under 10 MB, malformed projection start', () => {
    const { stack, key, logs } = scope();
    const base = { logBucket: logs, resultsKey: key, serverAccessLogsBucket: logs };
    expect(
      () => new ProcessingLogCatalog(stack, 'A', { ...base, databaseName: 'Privacy-Ops' }),
    ).toThrow(/databaseName/);
    expect(
      () =>
        new ProcessingLogCatalog(stack, 'B', {
          ...base,
          bytesScannedCutoffPerQuery: Size.mebibytes(1),
        }),
    ).toThrow(/at least 10 MB/);
    expect(
      () => new ProcessingLogCatalog(stack, 'C', { ...base, projectionStartDate: '2024/01/01' }),
    ).toThrow(/projectionStartDate/);
  });

  it('QueueFedFunction: a queue of its own without a key or a dead-letter queue', () => {
    const { stack, key } = scope();
    const base = { entry: 'functions/legal-hold.ts', serviceName: 'legal-hold', logKey: key };
    expect(() => new QueueFedFunction(stack, 'A', { ...base, queueKey: key })).toThrow(
      /queueKey and deadLetterQueue are required/,
    );
  });

  it('PurposeKey: no purpose, CloudWatch Logs on an HMAC key', () => {
    const { stack } = scope();
    expect(() => new PurposeKey(stack, 'A', { purpose: ' ' })).toThrow(/purpose/);
    expect(
      () => new PurposeKey(stack, 'B', { purpose: 'x', kind: 'hmac', forCloudWatchLogs: true }),
    ).toThrow(/symmetric keys only/);
  });

  it('SecureTable: recovery window outside 1–35 days, no reason for being in no backup plan', () => {
    const { stack, key } = scope();
    const base = {
      encryptionKey: key,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      noBackupPlanReason: 'test',
    };
    expect(() => new SecureTable(stack, 'A', { ...base, pointInTimeRecoveryDays: 0 })).toThrow(
      /1 to 35/,
    );
    expect(() => new SecureTable(stack, 'B', { ...base, pointInTimeRecoveryDays: 36 })).toThrow(
      /1 to 35/,
    );
    expect(() => new SecureTable(stack, 'C', { ...base, noBackupPlanReason: '' })).toThrow(
      /noBackupPlanReason/,
    );
  });

  it('DeclaredFunction: an input without its queue, key or failure queue; forwarding to no queues', () => {
    const { stack, key, logs } = scope();
    const table = new dynamodb.Table(stack, 'T', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.OLD_IMAGE,
    });
    const queue = new sqs.Queue(stack, 'Q');
    const resources: PipelineResources = {
      logBucket: logs,
      pseudonymKey: key,
      idempotencyTable: table,
      deadLetterQueue: queue,
      retentionTable: table,
      vaultBucket: logs,
      keyStore: table,
      documentsKey: key,
      uploadBucket: logs,
      exportBucket: logs,
      checkpointKey: key,
      maxDocumentBytes: 1024,
    };
    const base = { resources, logKey: key };
    expect(
      () => new DeclaredFunction(stack, 'A', { ...base, declaration: FUNCTIONS['legal-hold'] }),
    ).toThrow(/queueKey is required/);
    expect(
      () =>
        new DeclaredFunction(stack, 'B', {
          ...base,
          declaration: FUNCTIONS['retention-sweep'],
        }),
    ).toThrow(/failureQueue is required/);
    expect(
      () =>
        new DeclaredFunction(stack, 'C', {
          ...base,
          declaration: FUNCTIONS.intake,
          ingressQueue: queue,
        }),
    ).toThrow(/operationQueues/);
    expect(
      () =>
        new DeclaredFunction(stack, 'D', {
          ...base,
          declaration: {
            ...FUNCTIONS['retention-sweep'],
            input: { kind: 'schedule', everyHours: 0.5 },
          },
          failureQueue: queue,
        }),
    ).toThrow(/whole number of hours/);
  });
});
