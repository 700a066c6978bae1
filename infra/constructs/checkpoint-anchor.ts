import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SecureBucket } from './secure-bucket';

/** Alias of the key encrypting the anchor bucket (the source names it: no cross-region reference). */
export const ANCHOR_KEY_ALIAS = 'alias/privacy-ops-checkpoint-anchor';
/** Name of the role S3 replicates the checkpoints with (IAM is global: both regions name it). */
export const CHECKPOINT_REPLICATION_ROLE_NAME = 'privacy-ops-checkpoint-replication';

/** The anchor bucket's name in `region` of this stack's account. */
export function anchorBucketName(scope: Construct, region: string): string {
  return `privacy-ops-anchor-${Stack.of(scope).account}-${region}`;
}

/** Properties of a {@link CheckpointAnchor}. */
export interface CheckpointAnchorProps {
  /** Object Lock (COMPLIANCE) retention of the replicated checkpoints, in days. */
  readonly retentionDays: number;
}

/**
 * The outside anchor of the processing log's checkpoints, in the other EU region: a bucket under
 * Object Lock (COMPLIANCE) that receives only the checkpoints S3 replicates from the log bucket,
 * encrypted with a key of its own. Its policy lets nothing but the replication role write. A
 * checkpoint removed or rewritten in the log bucket stays here as it was signed.
 */
export class CheckpointAnchor extends Construct {
  /** The anchor bucket. */
  readonly bucket: s3.Bucket;
  /** The key encrypting it. */
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: CheckpointAnchorProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: 'privacy-ops: encrypts the replicated checkpoints of the processing log',
      enableKeyRotation: true,
      alias: ANCHOR_KEY_ALIAS,
    });
    const accessLogs = new SecureBucket(this, 'AccessLogBucket', {
      serverAccessLogTarget: true,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(400) }],
    }).bucket;
    this.bucket = new SecureBucket(this, 'Bucket', {
      bucketName: anchorBucketName(this, stack.region),
      encryptionKey: this.key,
      serverAccessLogsBucket: accessLogs,
      objectLockComplianceDays: props.retentionDays,
      noReplicationReason:
        'This bucket is the replica: the checkpoints of the log bucket in the other EU region are replicated here.',
    }).bucket;
    const replicationRole = `arn:${stack.partition}:iam::${stack.account}:role/${CHECKPOINT_REPLICATION_ROLE_NAME}`;
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheCheckpointReplicationWrites',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject', 's3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': replicationRole } },
      }),
    );
  }
}
