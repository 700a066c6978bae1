import {
  CreateTableCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, EnableKeyRotationCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  PutPublicAccessBlockCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ResolvedResource } from './intrinsics';

// The resources of the template the handlers use, created on the local endpoint from their
// resolved CloudFormation properties: KMS keys, buckets, queues, tables.

/** A KMS key as the template declares it (spec, usage, rotation). */
export async function createKey(
  kms: KMSClient,
  props: Record<string, unknown>,
): Promise<ResolvedResource> {
  const keySpec = (props.KeySpec as string | undefined) ?? 'SYMMETRIC_DEFAULT';
  const created = await kms.send(
    new CreateKeyCommand({
      Description: props.Description as string | undefined,
      KeySpec: keySpec as never,
      KeyUsage: ((props.KeyUsage as string | undefined) ?? 'ENCRYPT_DECRYPT') as never,
    }),
  );
  const meta = created.KeyMetadata!;
  if (props.EnableKeyRotation === true && keySpec === 'SYMMETRIC_DEFAULT') {
    await kms.send(new EnableKeyRotationCommand({ KeyId: meta.KeyId }));
  }
  return { ref: meta.KeyId!, attributes: { Arn: meta.Arn!, KeyId: meta.KeyId! } };
}

/** A bucket with its versioning and Object Lock default retention, then its other settings. */
export async function createBucket(
  s3: S3Client,
  name: string,
  region: string,
  props: Record<string, unknown>,
  notes: string[],
): Promise<ResolvedResource> {
  const objectLock = props.ObjectLockEnabled === true;
  await s3.send(
    new CreateBucketCommand({
      Bucket: name,
      CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint },
      ObjectLockEnabledForBucket: objectLock || undefined,
    }),
  );
  const versioning = props.VersioningConfiguration as { Status?: string } | undefined;
  if (versioning?.Status === 'Enabled' || objectLock) {
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: name,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
  }
  const lockConfig = props.ObjectLockConfiguration as
    | {
        ObjectLockEnabled?: string;
        Rule?: { DefaultRetention?: { Mode?: string; Days?: number; Years?: number } };
      }
    | undefined;
  if (objectLock && lockConfig?.Rule?.DefaultRetention) {
    const r = lockConfig.Rule.DefaultRetention;
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: name,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: r.Mode as never, Days: r.Days, Years: r.Years } },
        },
      }),
    );
  }
  await applyBucketSettings(s3, name, props, notes);
  if (props.LoggingConfiguration)
    notes.push(`${name}: server access logging is not produced locally`);
  return {
    ref: name,
    attributes: {
      Arn: `arn:aws:s3:::${name}`,
      DomainName: `${name}.s3.amazonaws.com`,
      RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
    },
  };
}

/** Encryption, public access block and lifecycle rules of a bucket, as the template sets them. */
async function applyBucketSettings(
  s3: S3Client,
  name: string,
  props: Record<string, unknown>,
  notes: string[],
): Promise<void> {
  const encryption = props.BucketEncryption as
    | {
        ServerSideEncryptionConfiguration: Array<{
          ServerSideEncryptionByDefault?: { SSEAlgorithm: string; KMSMasterKeyID?: string };
          BucketKeyEnabled?: boolean;
        }>;
      }
    | undefined;
  if (encryption) {
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: name,
        ServerSideEncryptionConfiguration: {
          Rules: encryption.ServerSideEncryptionConfiguration.map((rule) => ({
            ApplyServerSideEncryptionByDefault: rule.ServerSideEncryptionByDefault
              ? {
                  SSEAlgorithm: rule.ServerSideEncryptionByDefault.SSEAlgorithm as never,
                  KMSMasterKeyID: rule.ServerSideEncryptionByDefault.KMSMasterKeyID,
                }
              : undefined,
            BucketKeyEnabled: rule.BucketKeyEnabled,
          })),
        },
      }),
    );
  }
  const pab = props.PublicAccessBlockConfiguration as Record<string, boolean> | undefined;
  if (pab) {
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: name,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: pab.BlockPublicAcls,
          BlockPublicPolicy: pab.BlockPublicPolicy,
          IgnorePublicAcls: pab.IgnorePublicAcls,
          RestrictPublicBuckets: pab.RestrictPublicBuckets,
        },
      }),
    );
  }
  const lifecycle = props.LifecycleConfiguration as
    { Rules: Array<Record<string, unknown>> } | undefined;
  if (lifecycle) {
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: name,
        LifecycleConfiguration: {
          Rules: lifecycle.Rules.map((rule) => ({
            ID: rule.Id as string | undefined,
            Status: rule.Status as never,
            Filter: { Prefix: (rule.Prefix as string | undefined) ?? '' },
            Expiration: rule.ExpirationInDays
              ? { Days: rule.ExpirationInDays as number }
              : undefined,
            NoncurrentVersionExpiration: rule.NoncurrentVersionExpiration
              ? {
                  NoncurrentDays: (rule.NoncurrentVersionExpiration as { NoncurrentDays: number })
                    .NoncurrentDays,
                }
              : undefined,
            AbortIncompleteMultipartUpload: rule.AbortIncompleteMultipartUpload
              ? {
                  DaysAfterInitiation: (
                    rule.AbortIncompleteMultipartUpload as { DaysAfterInitiation: number }
                  ).DaysAfterInitiation,
                }
              : undefined,
          })),
        },
      }),
    );
    notes.push(`${name}: lifecycle rules are stored but never run by the local endpoint`);
  }
}

/** A queue with its attributes and redrive policy (`.fifo` appended for a FIFO queue). */
export async function createQueue(
  sqs: SQSClient,
  name: string,
  props: Record<string, unknown>,
): Promise<ResolvedResource> {
  const attributes: Record<string, string> = {};
  const map: Record<string, string> = {
    VisibilityTimeout: 'VisibilityTimeout',
    MessageRetentionPeriod: 'MessageRetentionPeriod',
    KmsMasterKeyId: 'KmsMasterKeyId',
    KmsDataKeyReusePeriodSeconds: 'KmsDataKeyReusePeriodSeconds',
    DelaySeconds: 'DelaySeconds',
    MaximumMessageSize: 'MaximumMessageSize',
    ReceiveMessageWaitTimeSeconds: 'ReceiveMessageWaitTimeSeconds',
    FifoQueue: 'FifoQueue',
    ContentBasedDeduplication: 'ContentBasedDeduplication',
    SqsManagedSseEnabled: 'SqsManagedSseEnabled',
  };
  for (const [cfn, attr] of Object.entries(map))
    if (props[cfn] !== undefined) attributes[attr] = String(props[cfn]);
  if (props.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(props.RedrivePolicy);
  const queueName = props.FifoQueue === true ? `${name}.fifo` : name;
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }),
  );
  const url = created.QueueUrl!;
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return {
    ref: url,
    attributes: { Arn: attrs.Attributes!.QueueArn!, QueueName: queueName, QueueUrl: url },
  };
}

/** A table with its keys, indexes, stream, TTL and point-in-time recovery. */
export async function createTable(
  ddb: DynamoDBClient,
  name: string,
  props: Record<string, unknown>,
): Promise<ResolvedResource> {
  const stream = props.StreamSpecification as { StreamViewType: string } | undefined;
  const sse = props.SSESpecification as
    { SSEEnabled?: boolean; SSEType?: string; KMSMasterKeyId?: string } | undefined;
  const input: CreateTableCommandInput = {
    TableName: name,
    KeySchema: props.KeySchema as never,
    AttributeDefinitions: props.AttributeDefinitions as never,
    BillingMode: ((props.BillingMode as string | undefined) ?? 'PROVISIONED') as never,
    ProvisionedThroughput: props.ProvisionedThroughput as never,
    GlobalSecondaryIndexes: props.GlobalSecondaryIndexes as never,
    LocalSecondaryIndexes: props.LocalSecondaryIndexes as never,
    StreamSpecification: stream
      ? { StreamEnabled: true, StreamViewType: stream.StreamViewType as never }
      : undefined,
    SSESpecification: sse
      ? {
          Enabled: sse.SSEEnabled,
          SSEType: sse.SSEType as never,
          KMSMasterKeyId: sse.KMSMasterKeyId,
        }
      : undefined,
  };
  const created = await ddb.send(new CreateTableCommand(input));
  const ttl = props.TimeToLiveSpecification as
    { AttributeName: string; Enabled: boolean } | undefined;
  if (ttl?.Enabled) {
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
      }),
    );
  }
  const pitr = props.PointInTimeRecoverySpecification as
    { PointInTimeRecoveryEnabled?: boolean } | undefined;
  if (pitr?.PointInTimeRecoveryEnabled) {
    await ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: name,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
  }
  const description = created.TableDescription!;
  return {
    ref: name,
    attributes: {
      Arn: description.TableArn!,
      ...(description.LatestStreamArn ? { StreamArn: description.LatestStreamArn } : {}),
    },
  };
}
