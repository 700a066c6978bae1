import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { PipelineAlarms } from '../../infra/constructs/pipeline-alarms';
import { ProcessingLogCatalog } from '../../infra/constructs/processing-log-catalog';
import { QueueFedFunction } from '../../infra/constructs/queue-fed-function';
import { SecureBucket } from '../../infra/constructs/secure-bucket';
import { SecureQueue } from '../../infra/constructs/secure-queue';

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
});
