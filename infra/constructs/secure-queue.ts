import { Duration, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * Days a message is kept in a queue and in its dead-letter queue (the SQS maximum): how long an
 * operator has to redrive a rejected event.
 */
export const QUEUE_RETENTION_DAYS = 14;

/** Properties of a {@link SecureQueue}. */
export interface SecureQueueProps {
  /** Key encrypting both the queue and its dead-letter queue. */
  readonly encryptionKey: kms.IKey;
  /** Timeout of the function consuming the queue. */
  readonly consumerTimeout: Duration;
  /** Visibility timeout; at least six times the consumer's timeout. @default 6 × consumerTimeout */
  readonly visibilityTimeout?: Duration;
  /** Deliveries before a message moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** Dead-letter queue to share; a new one is created when omitted. @default new queue */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * An SQS queue with a dead-letter queue, both KMS-encrypted and TLS-only, with a redrive
 * limit of at least five deliveries, a visibility timeout of at least six times the consumer's
 * timeout and fourteen days of dead-letter retention. Refuses anything weaker.
 */
export class SecureQueue extends Construct {
  /** The queue. */
  readonly queue: sqs.Queue;
  /** Its dead-letter queue. */
  readonly deadLetterQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: SecureQueueProps) {
    super(scope, id);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 5)
      throw new Error(`${id}: maxReceiveCount must be a whole number ≥ 5, got ${maxReceiveCount}`);
    const minimum = props.consumerTimeout.toSeconds() * 6;
    const visibilityTimeout = props.visibilityTimeout ?? Duration.seconds(minimum);
    if (visibilityTimeout.toSeconds() < minimum) {
      throw new Error(
        `${id}: visibilityTimeout (${visibilityTimeout.toSeconds()} s) must be at least six times ` +
          `the consumer's timeout (${minimum} s), or messages reappear while still being processed`,
      );
    }
    if (props.deadLetterQueue) {
      this.deadLetterQueue = props.deadLetterQueue;
    } else {
      const dlq = new sqs.Queue(this, 'DeadLetterQueue', {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: props.encryptionKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(QUEUE_RETENTION_DAYS),
      });
      Validations.of(dlq).acknowledge({
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'This is the terminal dead-letter queue: its messages wait (14 days, alarmed at depth > 0) ' +
          'for an operator to read the rejection reason and redrive or discard them.',
      });
      this.deadLetterQueue = dlq;
    }
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      visibilityTimeout,
      retentionPeriod: Duration.days(QUEUE_RETENTION_DAYS),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
  }
}
