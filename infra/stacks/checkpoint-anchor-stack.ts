import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CheckpointAnchor } from '../constructs/checkpoint-anchor';

/** Properties of the {@link CheckpointAnchorStack}. */
export interface CheckpointAnchorStackProps extends StackProps {
  /** Object Lock (COMPLIANCE) retention of the replicated checkpoints, in days. */
  readonly retentionDays: number;
}

/**
 * The anchor of the processing log's checkpoints, deployed in the other region of the EU pair
 * before the pipeline's stack (which replicates its checkpoints to it): one bucket under Object
 * Lock, its key and its access-log bucket. It holds checkpoints only, never records.
 */
export class CheckpointAnchorStack extends Stack {
  /** The anchor. */
  readonly anchor: CheckpointAnchor;

  constructor(scope: Construct, id: string, props: CheckpointAnchorStackProps) {
    super(scope, id, props);
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    this.anchor = new CheckpointAnchor(this, 'CheckpointAnchor', {
      retentionDays: props.retentionDays,
    });
    new CfnOutput(this, 'CheckpointAnchorBucketName', { value: this.anchor.bucket.bucketName });
  }
}
