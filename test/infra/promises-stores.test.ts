/** The stack keeps its promises on storage: encryption at rest and in transit, the locked and queryable log, and stores that expiry and erasure reach. */
import { Match } from 'aws-cdk-lib/assertions';
import { LOG_COLUMNS } from '../../shared/processing-log/record';
import { EXPIRY_INDEX, OPEN_REQUESTS_INDEX } from '../../shared/retention/retention-store';
import { resources, statements, template } from './stack-template';

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
    expect(groups).toHaveLength(9);
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

  it('rotates every symmetric key; the HMAC pseudonym key is GENERATE_VERIFY_MAC; the checkpoint key signs', () => {
    const keys = Object.values(resources('AWS::KMS::Key'));
    expect(keys).toHaveLength(6);
    for (const key of keys) {
      if (key.Properties!.KeySpec === 'HMAC_256') {
        expect(key.Properties!.KeyUsage).toBe('GENERATE_VERIFY_MAC');
      } else if (key.Properties!.KeySpec === 'ECC_NIST_P256') {
        expect(key.Properties!.KeyUsage).toBe('SIGN_VERIFY');
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

  it('keeps an upload object longer than its event can wait in a queue and then in the dead-letter queue, so a late redrive still stores it', () => {
    // Prepare: the longest a message can wait in a queue (the ingress or an operation queue), and
    // then again in the dead-letter queue before an operator redrives it
    const retentionDays = Object.values(template().findResources('AWS::SQS::Queue')).map(
      (q) => Number(q.Properties?.MessageRetentionPeriod ?? 345_600) / 86_400,
    );
    const longestWait = 2 * Math.max(...retentionDays);
    // Act
    const rules = Object.values(template().findResources('AWS::S3::Bucket')).flatMap(
      (b) => b.Properties?.LifecycleConfiguration?.Rules ?? [],
    ) as Array<{ Id: string; ExpirationInDays?: number }>;
    const uploads = rules.find((r) => r.Id === 'abandoned-uploads');
    // Assess: with a margin of at least a day
    expect(uploads?.ExpirationInDays).toBeGreaterThan(longestWait);
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
