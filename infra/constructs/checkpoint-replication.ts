import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CHECKPOINT_PREFIX } from '../../shared/processing-log/checkpoint-entry';
import {
  ANCHOR_KEY_ALIAS,
  anchorBucketName,
  CHECKPOINT_REPLICATION_ROLE_NAME,
} from './checkpoint-anchor';

/** Properties of a {@link CheckpointReplication}. */
export interface CheckpointReplicationProps {
  /** The log bucket (its checkpoints are replicated). */
  readonly logBucket: s3.Bucket;
  /** The key encrypting the log bucket. */
  readonly logKey: kms.IKey;
  /** The region of the anchor: the other region of the EU pair. */
  readonly anchorRegion: string;
}

/**
 * S3 replication of the log bucket's checkpoints (`checkpoints/`) to the anchor bucket in the
 * other EU region, and the role S3 replicates with. The role may read the checkpoints' versions
 * and replicate to the anchor bucket only: an explicit Deny refuses replication to any other
 * bucket, so no other destination is possible whatever else is attached. Delete markers are not
 * replicated. Refuses an anchor in the stack's own region.
 */
export class CheckpointReplication extends Construct {
  /** The replication role. */
  readonly role: iam.Role;
  /** The anchor bucket's name. */
  readonly anchorBucketName: string;

  constructor(scope: Construct, id: string, props: CheckpointReplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (props.anchorRegion === stack.region)
      throw new Error(`${id}: the anchor must be in another region than ${stack.region}`);
    this.anchorBucketName = anchorBucketName(this, props.anchorRegion);
    const anchorArn = `arn:${stack.partition}:s3:::${this.anchorBucketName}`;
    const anchorKey = `arn:${stack.partition}:kms:${props.anchorRegion}:${stack.account}:${ANCHOR_KEY_ALIAS}`;
    const checkpoints = props.logBucket.arnForObjects(`${CHECKPOINT_PREFIX}*`);
    this.role = new iam.Role(this, 'Role', {
      roleName: CHECKPOINT_REPLICATION_ROLE_NAME,
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      description: 'privacy-ops: replicates the checkpoints of the processing log to the EU anchor',
    });
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      roles: [this.role],
      description: 'privacy-ops checkpoint replication: read the checkpoints, write the anchor',
      statements: [
        new iam.PolicyStatement({
          actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
          resources: [props.logBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          actions: [
            's3:GetObjectVersionForReplication',
            's3:GetObjectVersionAcl',
            's3:GetObjectVersionTagging',
            's3:GetObjectRetention',
            's3:GetObjectLegalHold',
          ],
          resources: [checkpoints],
        }),
        new iam.PolicyStatement({
          actions: ['s3:ReplicateObject', 's3:ReplicateTags'],
          resources: [`${anchorArn}/${CHECKPOINT_PREFIX}*`],
        }),
        new iam.PolicyStatement({
          sid: 'NoOtherDestination',
          effect: iam.Effect.DENY,
          actions: ['s3:ReplicateObject', 's3:ReplicateTags', 's3:ReplicateDelete'],
          notResources: [`${anchorArn}/*`],
        }),
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [props.logKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
        }),
        new iam.PolicyStatement({
          actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [`arn:${stack.partition}:kms:${props.anchorRegion}:${stack.account}:key/*`],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${props.anchorRegion}.amazonaws.com` },
            'ForAnyValue:StringEquals': { 'kms:ResourceAliases': [ANCHOR_KEY_ALIAS] },
          },
        }),
      ],
    });
    // The account as cdk-nag renders it: the pseudo parameter of an environment-agnostic stack,
    // else the account the stack is pinned to.
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    for (const [finding, reason] of [
      [
        `Resource::<${stack.getLogicalId(props.logBucket.node.defaultChild as s3.CfnBucket)}.Arn>/checkpoints/*`,
        'Replication reads the versions of the checkpoints only (their keys are not known at deploy time)',
      ],
      [
        `Resource::arn:<AWS::Partition>:s3:::privacy-ops-anchor-${account}-${props.anchorRegion}/checkpoints/*`,
        'Replication writes the checkpoints into the anchor bucket only',
      ],
      [
        `Resource::arn:<AWS::Partition>:kms:${props.anchorRegion}:${account}:key/*`,
        'The anchor key is in another region (no reference): the condition names its alias',
      ],
    ])
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });

    const cfn = props.logBucket.node.defaultChild as s3.CfnBucket;
    cfn.replicationConfiguration = {
      role: this.role.roleArn,
      rules: [
        {
          id: 'checkpoints-to-eu-anchor',
          status: 'Enabled',
          priority: 1,
          filter: { prefix: CHECKPOINT_PREFIX },
          deleteMarkerReplication: { status: 'Disabled' },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
          destination: {
            bucket: anchorArn,
            encryptionConfiguration: { replicaKmsKeyId: anchorKey },
          },
        },
      ],
    };
  }
}
