import { Duration, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantKeyThrough } from '../service-bindings';
import { PipelineFunction, PipelineFunctionProps } from './pipeline-function';
import { SecureQueue } from './secure-queue';

/** Properties of a {@link QueueFedFunction}. */
export interface QueueFedFunctionProps extends PipelineFunctionProps {
  /**
   * A queue built elsewhere to consume (e.g. the ingress queue), with its own redrive policy.
   * @default a new queue of its own, keyed with `queueKey`, redriving to `deadLetterQueue`
   */
  readonly queue?: sqs.IQueue;
  /** Key of its own queue; required unless `queue` is given. @default none */
  readonly queueKey?: kms.IKey;
  /**
   * Dead-letter queue shared with the rest of the pipeline: its own queue redrives to it, and
   * the function's asynchronous invocations fail to it. Required unless `queue` is given.
   * @default none (only with `queue`)
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Batch size. @default 10 */
  readonly batchSize?: number;
  /** Batching window. @default 1 second */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent batches this queue may drive; the function's reserved concurrency defaults to it. @default 5 */
  readonly maxConcurrency?: number;
}

/**
 * A function fed by an SQS queue, its own unless one is given: queue and shared dead-letter
 * queue KMS-encrypted and TLS-only, visibility timeout six times the function timeout, partial
 * batch responses, a batching window, and reserved concurrency covering the mapping's maximum
 * concurrency. Refuses a reserved concurrency under the mapping's, and a queue of its own without
 * a key or a dead-letter queue.
 */
export class QueueFedFunction extends Construct {
  /** The queue feeding the function. */
  readonly queue: sqs.IQueue;
  /** The function. */
  readonly pipelineFunction: PipelineFunction;

  constructor(scope: Construct, id: string, props: QueueFedFunctionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(30);
    const maxConcurrency = props.maxConcurrency ?? 5;
    const reserved = props.reservedConcurrentExecutions ?? maxConcurrency;
    if (reserved < maxConcurrency) {
      throw new Error(
        `${id}: reservedConcurrentExecutions (${reserved}) must cover maxConcurrency (${maxConcurrency}), ` +
          'or the queue would drive more batches than the function may run and messages would be throttled',
      );
    }
    if (!props.queue && (!props.queueKey || !props.deadLetterQueue)) {
      throw new Error(`${id}: queueKey and deadLetterQueue are required for a queue of its own`);
    }
    this.pipelineFunction = new PipelineFunction(this, 'Handler', {
      ...props,
      timeout,
      reservedConcurrentExecutions: reserved,
    });
    this.queue =
      props.queue ??
      new SecureQueue(this, 'Input', {
        encryptionKey: props.queueKey!,
        consumerTimeout: timeout,
        deadLetterQueue: props.deadLetterQueue,
      }).queue;
    // The mapping is given the queue without its key, so that its grant names no key; the function
    // may decrypt only through SQS.
    const keyless = sqs.Queue.fromQueueAttributes(this, 'Source', {
      queueArn: this.queue.queueArn,
      queueUrl: this.queue.queueUrl,
    });
    grantKeyThrough(this.pipelineFunction.role, this.queue.encryptionMasterKey, 'sqs', 'decrypt');
    this.pipelineFunction.function.addEventSource(
      new lambdaEventSources.SqsEventSource(keyless, {
        batchSize: props.batchSize ?? 10,
        maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
        reportBatchItemFailures: true,
        maxConcurrency,
      }),
    );
    acknowledgeSqsMappingDestination(this.pipelineFunction.function);
  }
}

/**
 * Acknowledges, on each SQS event source mapping of `fn`, the rule asking for an on-failure
 * destination: Lambda supports none for SQS mappings; the queue's redrive policy is the
 * failure path (maxReceiveCount ≥ 5, then the dead-letter queue, alarmed).
 */
export function acknowledgeSqsMappingDestination(fn: lambda.IFunction): void {
  for (const child of fn.node.children) {
    if (!(child instanceof lambda.EventSourceMapping)) continue;
    if (!child.node.id.startsWith('SqsEventSource')) continue;
    Validations.of(child).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'Lambda supports no on-failure destination on SQS event source mappings; the queue redrive ' +
        'policy (maxReceiveCount ≥ 5) moves failed messages to the alarmed dead-letter queue.',
    });
  }
}
