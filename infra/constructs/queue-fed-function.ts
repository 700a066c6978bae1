import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PipelineFunction, PipelineFunctionProps } from './pipeline-function';
import { SecureQueue } from './secure-queue';

/** Properties of a {@link QueueFedFunction}. */
export interface QueueFedFunctionProps extends PipelineFunctionProps {
  /** Key of the queue. */
  readonly queueKey: kms.IKey;
  /** Dead-letter queue shared with the rest of the pipeline. */
  readonly deadLetterQueue: sqs.IQueue;
  /** Batch size. @default 10 */
  readonly batchSize?: number;
  /** Batching window. @default 1 second */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent batches this queue may drive. @default 5 */
  readonly maxConcurrency?: number;
}

/**
 * A function fed by its own SQS queue: queue and shared dead-letter queue KMS-encrypted and
 * TLS-only, visibility timeout six times the function timeout, partial batch responses.
 */
export class QueueFedFunction extends Construct {
  /** The queue feeding the function. */
  readonly queue: sqs.Queue;
  /** The function. */
  readonly pipelineFunction: PipelineFunction;

  constructor(scope: Construct, id: string, props: QueueFedFunctionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(30);
    this.pipelineFunction = new PipelineFunction(this, 'Handler', { ...props, timeout });
    this.queue = new SecureQueue(this, 'Input', {
      encryptionKey: props.queueKey,
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      deadLetterQueue: props.deadLetterQueue,
    }).queue;
    this.pipelineFunction.function.addEventSource(
      new lambdaEventSources.SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? 5,
      }),
    );
  }
}
