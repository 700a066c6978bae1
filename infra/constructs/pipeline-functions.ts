import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTIONS } from '../../shared/functions/declarations';
import { QUEUE_OPERATIONS, type QueueOperation } from '../../shared/operations/routes';
import type { DeploymentConfig } from '../config';
import { DeclaredFunction, type DeclaredFunctionProps } from './declared-function';

/** `document-upload` → `DocumentUpload`. */
export const pascal = (name: string) =>
  name.replace(/(^|-)([a-z])/g, (_, __: string, letter: string) => letter.toUpperCase());

/** What every function of the pipeline is built with, besides its own declaration. */
export type SharedFunctionProps = Omit<DeclaredFunctionProps, 'declaration' | 'scaling'>;

/**
 * One function per declaration: the queue-fed operations first (their queues are what the
 * intake forwards to), then the intake, the retention functions and the checkpointer. Each gets
 * the variables and the grants of the services it declares. Returns the operations' input
 * queues and the checkpointer.
 */
export function pipelineFunctions(
  scope: Construct,
  shared: SharedFunctionProps,
  scaling: DeploymentConfig['scaling'],
): { operationQueues: Record<QueueOperation, sqs.IQueue>; checkpointer: DeclaredFunction } {
  const { queueKey, ingressQueue, failureQueue, resources, ...common } = shared;
  const operationQueues = {} as Record<QueueOperation, sqs.IQueue>;
  for (const operation of QUEUE_OPERATIONS) {
    operationQueues[operation] = new DeclaredFunction(scope, pascal(operation), {
      ...common,
      resources,
      declaration: FUNCTIONS[operation],
      queueKey,
      scaling: scaling[operation],
    }).queue!;
  }
  new DeclaredFunction(scope, 'Intake', {
    ...common,
    resources: { ...resources, operationQueues },
    declaration: FUNCTIONS.intake,
    ingressQueue,
    scaling: scaling.intake,
  });
  new DeclaredFunction(scope, 'RetentionExpiry', {
    ...common,
    resources,
    declaration: FUNCTIONS['retention-expiry'],
    failureQueue,
  });
  new DeclaredFunction(scope, 'RetentionSweep', {
    ...common,
    resources,
    declaration: FUNCTIONS['retention-sweep'],
    failureQueue,
    description:
      'privacy-ops: expire retention items TTL has not removed yet (bound: one hour after expiry)',
  });
  const checkpointer = new DeclaredFunction(scope, 'Checkpointer', {
    ...common,
    resources,
    declaration: FUNCTIONS.checkpointer,
    failureQueue,
    description: 'privacy-ops: sign a checkpoint of the processing log (every 5 minutes)',
  });
  return { operationQueues, checkpointer };
}
