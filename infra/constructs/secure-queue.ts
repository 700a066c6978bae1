import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Properties of a {@link SecureQueue}. */
export interface SecureQueueProps {
  /** Key encrypting both the queue and its dead-letter queue. */
  readonly encryptionKey: kms.IKey;
  /** Visibility timeout; must be at least six times the consuming function's timeout. */
  readonly visibilityTimeout: Duration;
  /** Deliveries before a message moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** Dead-letter queue to share; a new one is created when omitted. @default new queue */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * An SQS queue with a dead-letter queue, both KMS-encrypted and TLS-only, with a redrive
 * limit of at least five deliveries and fourteen days of dead-letter retention.
 */
export class SecureQueue extends Construct {
  /** The queue. */
  readonly queue: sqs.Queue;
  /** Its dead-letter queue. */
  readonly deadLetterQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: SecureQueueProps) {
    super(scope, id);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    if (maxReceiveCount < 5)
      throw new Error(`${id}: maxReceiveCount must be at least 5, got ${maxReceiveCount}`);
    this.deadLetterQueue =
      props.deadLetterQueue ??
      new sqs.Queue(this, 'DeadLetterQueue', {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: props.encryptionKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
  }
}
