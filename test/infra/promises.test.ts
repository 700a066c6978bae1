/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation is untyped JSON */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import { RESOURCE_STAR_ACTIONS } from '../../infra/constructs/function-role';
import { ENTRY_METADATA_KEY } from '../../infra/constructs/pipeline-function';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { OVERDUE_REQUESTS_METRIC } from '../../shared/operations/overdue-requests';
import { sweepMetrics } from '../../shared/operations/retention-sweep';
import { LOG_COLUMNS } from '../../shared/processing-log/record';
import { EXPIRY_INDEX, OPEN_REQUESTS_INDEX } from '../../shared/retention/retention-store';

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

/** One synthesis per region, shared by the assertions (packs included: a finding would throw). */
const templates = new Map<string, Template>();
function template(region = 'eu-west-3', context: Record<string, unknown> = {}): Template {
  const key = JSON.stringify([region, context]);
  if (!templates.has(key)) {
    const app = buildApp(
      new App({ context: { 'aws:cdk:bundling-stacks': [], region, ...context } }),
    );
    templates.set(key, Template.fromStack(app.node.findChild('PrivacyOps') as Stack));
  }
  return templates.get(key)!;
}
function resources(type: string, t = template()): Resources {
  return t.findResources(type) as Resources;
}
function statements(doc: any): any[] {
  return ([] as any[]).concat(doc?.Statement ?? []);
}

describe('encryption at rest: every store under a project key', () => {
  it('encrypts every bucket: SSE-KMS with a bucket key, except SSE-S3 on the access-log target', () => {
    // Prepare
    const buckets = Object.values(resources('AWS::S3::Bucket'));
    // Assess
    expect(buckets.length).toBe(6);
    const sse = buckets.map(
      (b) => b.Properties!.BucketEncryption.ServerSideEncryptionConfiguration[0],
    );
    expect(
      sse.filter((r) => r.ServerSideEncryptionByDefault.SSEAlgorithm === 'AES256'),
    ).toHaveLength(1);
    for (const rule of sse.filter(
      (r) => r.ServerSideEncryptionByDefault.SSEAlgorithm !== 'AES256',
    )) {
      expect(rule.ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
      expect(rule.ServerSideEncryptionByDefault.KMSMasterKeyID).toBeDefined();
      expect(rule.BucketKeyEnabled).toBe(true);
    }
  });

  it('blocks public access, disables ACLs and versions every bucket', () => {
    for (const bucket of Object.values(resources('AWS::S3::Bucket'))) {
      expect(bucket.Properties!.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties!.OwnershipControls.Rules[0].ObjectOwnership).toBe(
        'BucketOwnerEnforced',
      );
      expect(bucket.Properties!.AccessControl).toBeUndefined();
      expect(bucket.Properties!.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    }
  });

  it('encrypts every table with a customer-managed key and keeps point-in-time recovery', () => {
    const tables = Object.values(resources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(3);
    for (const table of tables) {
      expect(table.Properties!.SSESpecification).toMatchObject({
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: expect.anything(),
      });
      expect(table.Properties!.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(
        true,
      );
    }
  });

  it('encrypts every queue and the alarm topic with a customer-managed key', () => {
    for (const queue of Object.values(resources('AWS::SQS::Queue'))) {
      expect(queue.Properties!.KmsMasterKeyId).toEqual({
        'Fn::GetAtt': [expect.any(String), 'Arn'],
      });
    }
    template().hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  it('encrypts every function log group with KMS and gives it the configured retention', () => {
    const groups = Object.values(resources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(8);
    for (const group of groups) {
      expect(group.Properties!.KmsKeyId).toBeDefined();
      expect(group.Properties!.RetentionInDays).toBe(365);
    }
    const custom = resources(
      'AWS::Logs::LogGroup',
      template('eu-west-3', { functionLogRetentionDays: 90 }),
    );
    for (const group of Object.values(custom)) expect(group.Properties!.RetentionInDays).toBe(90);
  });

  it('rotates every symmetric key; the HMAC pseudonym key is GENERATE_VERIFY_MAC', () => {
    const keys = Object.values(resources('AWS::KMS::Key'));
    expect(keys).toHaveLength(5);
    for (const key of keys) {
      if (key.Properties!.KeySpec === 'HMAC_256') {
        expect(key.Properties!.KeyUsage).toBe('GENERATE_VERIFY_MAC');
      } else {
        expect(key.Properties!.EnableKeyRotation).toBe(true);
      }
    }
  });
});

describe('encryption in transit: TLS only', () => {
  const denyInsecure = Match.objectLike({
    Effect: 'Deny',
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  });

  it('gives every bucket a TLS-only policy', () => {
    const policies = Object.values(resources('AWS::S3::BucketPolicy'));
    const buckets = Object.keys(resources('AWS::S3::Bucket'));
    const covered = policies.map((p) => p.Properties!.Bucket.Ref);
    expect(new Set(covered)).toEqual(new Set(buckets));
    for (const policy of policies) {
      expect(statements(policy.Properties!.PolicyDocument)).toEqual(
        expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Action: 's3:*' })]),
      );
    }
    template().allResourcesProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([denyInsecure]) },
    });
  });

  it('gives every queue and the topic a TLS-only policy', () => {
    const queues = Object.keys(resources('AWS::SQS::Queue'));
    const covered = Object.values(resources('AWS::SQS::QueuePolicy')).flatMap((p) =>
      p.Properties!.Queues.map((q: { Ref: string }) => q.Ref),
    );
    expect(new Set(covered)).toEqual(new Set(queues));
    template().allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([denyInsecure]) },
    });
    template().hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([denyInsecure]) },
    });
  });
});

describe('processing log: immutable, complete, queryable', () => {
  it('locks the log in COMPLIANCE mode for the configured number of days', () => {
    template('eu-west-3', { logRetentionDays: 400 }).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } },
      },
    });
  });

  it('declares the Glue table over the log with dt projection and the columns of LOG_COLUMNS', () => {
    const table = Object.values(resources('AWS::Glue::Table'))[0].Properties!.TableInput;
    expect(table.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name)).toEqual(
      LOG_COLUMNS,
    );
    expect(table.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
      'org.openx.data.jsonserde.JsonSerDe',
    );
    expect(table.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string' }]);
    expect(table.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
    });
    expect(JSON.stringify(table.Parameters['storage.location.template'])).toContain('dt=${dt}/');
  });

  it('has an Athena workgroup enforcing KMS-encrypted results and a scan cutoff, and named queries', () => {
    template().hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: Match.anyValue(),
        ResultConfiguration: {
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() },
        },
      },
    });
    const queries = Object.values(resources('AWS::Athena::NamedQuery'));
    expect(queries.length).toBeGreaterThanOrEqual(5);
    for (const q of queries) {
      expect(q.Properties!.QueryString).toContain('"privacy_ops"."processing_log"');
      expect(q.Properties!.QueryString).not.toMatch(/\{\{/);
    }
  });
});

describe('retention and erasure stores: expiry and erasure reach every copy', () => {
  it('gives the retention table its TTL, OLD_IMAGE stream and by-expiry index', () => {
    template().hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      StreamSpecification: { StreamViewType: 'OLD_IMAGE' },
      GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: EXPIRY_INDEX })]),
    });
  });

  it('indexes the open requests sparsely by shard and deadline, for the sweeper', () => {
    template().hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: OPEN_REQUESTS_INDEX,
          KeySchema: [
            { AttributeName: 'openRequestShard', KeyType: 'HASH' },
            { AttributeName: 'deadline', KeyType: 'RANGE' },
          ],
        }),
      ]),
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'openRequestShard', AttributeType: 'S' },
        { AttributeName: 'deadline', AttributeType: 'S' },
      ]),
    });
  });

  it('gives the idempotency table its TTL and the key store a 1-day recovery window', () => {
    template().hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
    template().hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: {
        PointInTimeRecoveryEnabled: true,
        RecoveryPeriodInDays: 1,
      },
    });
  });

  it('expires abandoned uploads and exports', () => {
    for (const id of ['abandoned-uploads', 'expire-exports']) {
      template().hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Id: id, Status: 'Enabled', ExpirationInDays: Match.anyValue() }),
          ]),
        },
      });
    }
  });
});

describe('queues and functions', () => {
  it('redrives after at least 5 receives with visibility ≥ 6 × the consumer timeout', () => {
    const t = template();
    const functions = Object.values(resources('AWS::Lambda::Function', t));
    const timeouts = functions.map((f) => f.Properties!.Timeout as number);
    for (const queue of Object.values(resources('AWS::SQS::Queue', t))) {
      const redrive = queue.Properties!.RedrivePolicy;
      if (!redrive) continue;
      expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
      expect(queue.Properties!.VisibilityTimeout).toBeGreaterThanOrEqual(6 * 30);
    }
    expect(Math.min(...timeouts)).toBe(30);
  });

  it('runs every function on arm64 and Node.js 24 with active tracing and reserved concurrency', () => {
    const functions = Object.values(resources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(8);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        ReservedConcurrentExecutions: expect.any(Number),
      });
    }
  });

  it('reports partial batch failures with a batching window on every SQS mapping', () => {
    const mappings = Object.values(resources('AWS::Lambda::EventSourceMapping'));
    const sqsMappings = mappings.filter((m) => !m.Properties!.StartingPosition);
    expect(sqsMappings).toHaveLength(6);
    for (const m of sqsMappings) {
      expect(m.Properties).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumBatchingWindowInSeconds: expect.any(Number),
      });
    }
  });

  it('filters the stream mapping to TTL deletions and sends failed batches to a queue', () => {
    template().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      FilterCriteria: {
        Filters: [{ Pattern: Match.stringLikeRegexp('dynamodb\\.amazonaws\\.com') }],
      },
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('runs the sweeper hourly with a dead-letter queue', () => {
    template().hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } })],
    });
  });
});

describe('least privilege and region lock', () => {
  it.each(['eu-west-3', 'eu-west-1'])(
    'denies every other region to every function role (%s)',
    (region) => {
      const t = template(region);
      const roles = Object.entries(resources('AWS::IAM::Role', t)).filter(([, r]) =>
        JSON.stringify(r.Properties!.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
      );
      expect(roles).toHaveLength(8);
      const policies = Object.values(resources('AWS::IAM::ManagedPolicy', t));
      for (const [roleId] of roles) {
        const denies = policies
          .filter((p) => p.Properties!.Roles.some((r: { Ref: string }) => r.Ref === roleId))
          .flatMap((p) => statements(p.Properties!.PolicyDocument))
          .filter((s) => s.Effect === 'Deny');
        expect(denies).toContainEqual(
          expect.objectContaining({
            Action: '*',
            Resource: '*',
            Condition: { StringNotEquals: { 'aws:RequestedRegion': [region] } },
          }),
        );
      }
    },
  );

  it('uses no AWS managed policy and no inline policy', () => {
    expect(resources('AWS::IAM::Policy')).toEqual({});
    for (const role of Object.values(resources('AWS::IAM::Role'))) {
      expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties!.Policies).toBeUndefined();
    }
  });

  it('allows no action "*", and resource "*" only for actions that cannot be scoped', () => {
    const allows = Object.values(resources('AWS::IAM::ManagedPolicy'))
      .flatMap((p) => statements(p.Properties!.PolicyDocument))
      .filter((s) => s.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(0);
    for (const s of allows) {
      const actions = ([] as string[]).concat(s.Action);
      expect(actions).not.toContain('*');
      for (const a of actions) expect(a).not.toMatch(/^[a-z0-9-]+:\*$/);
      if (([] as unknown[]).concat(s.Resource).includes('*')) {
        for (const a of actions) expect(RESOURCE_STAR_ACTIONS).toContain(a);
      }
    }
  });

  it('lets the documents key be used only with the tenant as encryption context', () => {
    const allows = Object.values(resources('AWS::IAM::ManagedPolicy'))
      .flatMap((p) => statements(p.Properties!.PolicyDocument))
      .filter((s) => JSON.stringify(s.Resource).includes('DocumentsKey'));
    expect(allows.length).toBeGreaterThan(0);
    for (const s of allows) {
      expect(s.Condition).toEqual({
        'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] },
      });
    }
  });
});

describe('alarms: overdue requests and failures reach a person', () => {
  it('alarms on dead-letter depth, message age and overdue requests, to the topic', () => {
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm'));
    const metrics = alarms.map((a) => a.Properties!.MetricName);
    expect(metrics.filter((m) => m === 'ApproximateNumberOfMessagesVisible')).toHaveLength(2);
    expect(metrics.filter((m) => m === 'ApproximateAgeOfOldestMessage')).toHaveLength(6);
    expect(metrics).toContain('OverdueRequests');
    for (const alarm of alarms) {
      expect(alarm.Properties!.AlarmActions).toEqual([
        { Ref: expect.stringMatching(/^AlarmsTopic/) },
      ]);
    }
    template().hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('watches exactly the OverdueRequests metric the sweeper emits (namespace, name, service dimension)', () => {
    // Prepare: what the sweeper's Powertools Metrics writes (EMF) for one run
    const metrics = sweepMetrics();
    metrics.addMetric(OVERDUE_REQUESTS_METRIC.name, MetricUnit.Count, 0);
    const emf = metrics.serializeMetrics();
    metrics.clearMetrics();
    const [directive] = emf._aws.CloudWatchMetrics;
    const emitted = {
      namespace: directive.Namespace,
      names: directive.Metrics.map((m) => m.Name),
      dimensions: directive.Dimensions.flat().map((d) => [d, (emf as any)[d]]),
    };
    // Act
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties!.MetricName === OVERDUE_REQUESTS_METRIC.name,
    );
    const sweep = Object.values(resources('AWS::Lambda::Function')).find(
      (f) => (f as any).Metadata?.[ENTRY_METADATA_KEY] === 'functions/retention-sweep.ts',
    );
    // Assess
    expect(emitted).toEqual({
      namespace: 'PrivacyOps',
      names: ['OverdueRequests'],
      dimensions: [['service', 'retention-sweep']],
    });
    expect(alarms).toHaveLength(1);
    expect(alarms[0].Properties).toMatchObject({
      Namespace: emitted.namespace,
      MetricName: emitted.names[0],
      Dimensions: emitted.dimensions.map(([Name, Value]) => ({ Name, Value })),
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(sweep?.Properties!.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe(
      OVERDUE_REQUESTS_METRIC.service,
    );
  });

  it('subscribes the configured e-mail addresses', () => {
    const t = template('eu-west-3', { alarmEmail: 'ops@example.eu,dpo@example.eu' });
    const subs = Object.values(resources('AWS::SNS::Subscription', t));
    expect(subs.map((s) => s.Properties!.Endpoint).sort()).toEqual([
      'dpo@example.eu',
      'ops@example.eu',
    ]);
    expect(Object.keys(resources('AWS::SNS::Subscription'))).toHaveLength(0);
  });
});

describe('outputs', () => {
  it('declares every output of the wire contract', () => {
    const outputs = Object.keys(template().toJSON().Outputs ?? {});
    expect(outputs).toEqual(
      expect.arrayContaining([
        'IngressQueueUrl',
        'DeadLetterQueueUrl',
        'UploadBucketName',
        'VaultBucketName',
        'ExportBucketName',
        'LogBucketName',
        'RetentionTableName',
        'GlueDatabaseName',
        'GlueTableName',
        'AthenaWorkGroupName',
      ]),
    );
  });
});
