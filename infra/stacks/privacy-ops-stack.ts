import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ProducerRegistry } from '../../shared/intake/producer-registry';
import type { DeploymentConfig } from '../config';
import { PrivacyOpsPipeline } from '../constructs/privacy-ops-pipeline';

/** Properties of the {@link PrivacyOpsStack}. */
export interface PrivacyOpsStackProps extends StackProps {
  /** Validated deployment configuration. */
  readonly config: DeploymentConfig;
  /**
   * Who may send events and upload documents, and for which tenants: the queue and bucket
   * policies admit only these producers. @default config/producers.json, as bundled into the intake
   */
  readonly producers?: ProducerRegistry;
}

/**
 * Our deployment of the {@link PrivacyOpsPipeline}: the construct with the settings of the CDK
 * context and the package's policy files, and the stack outputs the wire contract names. The
 * construct's id is `Default`, which CDK leaves out of logical ids: the resources keep the ids
 * they had when the stack built them itself, so an update replaces none of them.
 */
export class PrivacyOpsStack extends Stack {
  /** The pipeline. */
  readonly pipeline: PrivacyOpsPipeline;

  constructor(scope: Construct, id: string, props: PrivacyOpsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const accountConcurrency = this.node.tryGetContext('accountConcurrency');
    this.pipeline = new PrivacyOpsPipeline(this, 'Default', {
      region: config.region,
      logRetentionDays: config.logRetentionDays,
      functionLogRetentionDays: config.functionLogRetentionDays,
      waitingForClosureAlarmDays: config.waitingForClosureAlarmDays,
      alarmEmails: config.alarmEmails,
      scaling: config.scaling,
      accountConcurrency: accountConcurrency === undefined ? undefined : Number(accountConcurrency),
      maxDocumentBytes: config.maxDocumentBytes,
      producers: props.producers,
    });

    // --- Outputs (names fixed by the wire contract, EVENTS.md) ------------------------------
    const pipeline = this.pipeline;
    const outputs: Record<string, string> = {
      IngressQueueUrl: pipeline.ingressQueue.queueUrl,
      DeadLetterQueueUrl: pipeline.deadLetterQueue.queueUrl,
      UploadBucketName: pipeline.uploadBucket.bucketName,
      VaultBucketName: pipeline.vaultBucket.bucketName,
      ExportBucketName: pipeline.exportBucket.bucketName,
      LogBucketName: pipeline.logBucket.bucketName,
      RetentionTableName: pipeline.retentionTable.tableName,
      GlueDatabaseName: pipeline.catalog.databaseName,
      GlueTableName: pipeline.catalog.tableName,
      AthenaWorkGroupName: pipeline.catalog.workGroupName,
      AlarmTopicArn: pipeline.alarmTopic.topicArn,
      CheckpointKeyId: pipeline.checkpointKey.keyArn,
      CheckpointerFunctionName: pipeline.checkpointer.functionName,
      CheckpointAnchorBucketName: pipeline.anchorBucketName,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }
}
