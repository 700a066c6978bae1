import { Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DeployedConfigDocuments } from '../../shared/deployed-config';
import type { FunctionDeclaration, FunctionInput } from '../../shared/functions/declarations';
import type { QueueScaling } from '../config';
import { SERVICE_VARIABLES } from '../../shared/functions/declarations';
import {
  environmentOf,
  grantKeyThrough,
  grantServices,
  type PipelineResources,
} from '../service-bindings';
import { FunctionRole } from './function-role';
import {
  functionRoleProps,
  PipelineFunction,
  type PipelineFunctionProps,
} from './pipeline-function';
import { QueueFedFunction } from './queue-fed-function';

/** Properties of a {@link DeclaredFunction}. */
export interface DeclaredFunctionProps {
  /** What the function is: entry, input, services with their access, limits. */
  readonly declaration: FunctionDeclaration;
  /** The resources its services stand for. */
  readonly resources: PipelineResources;
  /** KMS key encrypting the function's log group. */
  readonly logKey: kms.IKey;
  /** Log group retention. @default one year */
  readonly logRetention?: logs.RetentionDays;
  /** Key of its own input queue; required for an `operation-queue` input. @default none */
  readonly queueKey?: kms.IKey;
  /** The queue producers write to; required for an `ingress-queue` input. @default none */
  readonly ingressQueue?: sqs.IQueue;
  /**
   * Where failed stream batches (on-failure records) and failed schedule runs go; required for
   * `ttl-removals` and `schedule` inputs. @default none
   */
  readonly failureQueue?: sqs.IQueue;
  /** What a scheduled run does (the schedule rule's description). @default the function's name */
  readonly description?: string;
  /**
   * Batch size, batching window and maximum concurrency of a queue input; the reserved
   * concurrency is the maximum concurrency. @default the declaration's reserved concurrency,
   * batches of 10 within 1 second
   */
  readonly scaling?: QueueScaling;
  /**
   * The retention policy, instructions and producer registry compiled into the function.
   * @default none: the function reads the package's `config/` files
   */
  readonly deployedConfig?: DeployedConfigDocuments;
}

/**
 * One function of the pipeline built from its declaration: its environment is exactly the
 * variables of the services it declares, its role (a child of this construct) exactly their
 * grants for the declared access, both derived from the declaration and never listed by hand; its
 * input (its own queue, the ingress queue, the retention table's TTL deletions or a schedule)
 * wired with its failure path. Builds on {@link PipelineFunction} and {@link QueueFedFunction}.
 * Refuses an input whose queue or key is missing, and a schedule that is not whole hours or minutes.
 */
export class DeclaredFunction extends Construct {
  /** The function. */
  readonly function: nodejs.NodejsFunction;
  /** Its execution role, holding the grants of its services. */
  readonly role: FunctionRole;
  /** Its own input queue (`operation-queue` input only). */
  readonly queue?: sqs.IQueue;

  constructor(scope: Construct, id: string, props: DeclaredFunctionProps) {
    super(scope, id);
    const { declaration, resources } = props;
    const input = declaration.input;
    checkInput(id, props);
    const environment = environmentOf(declaration, resources);
    this.role = new FunctionRole(this, 'Role', functionRoleProps(declaration.name));
    grantServices(declaration, resources, this.role);
    const base: PipelineFunctionProps = {
      role: this.role,
      environment,
      entry: declaration.entry,
      serviceName: declaration.name,
      timeout: Duration.seconds(declaration.timeoutSeconds),
      reservedConcurrentExecutions: declaration.reservedConcurrency,
      logKey: props.logKey,
      logRetention: props.logRetention,
      deployedConfig: props.deployedConfig,
    };
    const scaling = props.scaling ?? {
      batchSize: 10,
      batchingWindowSeconds: 1,
      maxConcurrency: declaration.reservedConcurrency,
    };
    const queueInput = {
      batchSize: scaling.batchSize,
      maxBatchingWindow: Duration.seconds(scaling.batchingWindowSeconds),
      maxConcurrency: scaling.maxConcurrency,
      reservedConcurrentExecutions: scaling.maxConcurrency,
    };
    switch (input.kind) {
      case 'operation-queue': {
        const fed = new QueueFedFunction(this, 'Handler', {
          ...base,
          ...queueInput,
          queueKey: props.queueKey,
          deadLetterQueue: resources.deadLetterQueue,
        });
        this.function = fed.pipelineFunction.function;
        this.queue = fed.queue;
        // A request too large for one invocation continues on the function's own queue.
        if (declaration.services.continuations) {
          this.function.addEnvironment(
            SERVICE_VARIABLES.continuations.queueUrl,
            fed.queue.queueUrl,
          );
          // The send is granted on the queue without its key, so the grant names no key; the
          // function uses the key only through SQS.
          sqs.Queue.fromQueueAttributes(this, 'ContinuationQueue', {
            queueArn: fed.queue.queueArn,
            queueUrl: fed.queue.queueUrl,
          }).grantSendMessages(this.role);
          grantKeyThrough(this.role, fed.queue.encryptionMasterKey, 'sqs', 'encrypt-decrypt');
        }
        break;
      }
      case 'ingress-queue':
        this.function = new QueueFedFunction(this, 'Handler', {
          ...base,
          ...queueInput,
          queue: props.ingressQueue,
        }).pipelineFunction.function;
        break;
      case 'ttl-removals':
        this.function = new PipelineFunction(this, 'Handler', base).function;
        this.function.addEventSource(ttlRemovals(this, resources, props.failureQueue!));
        break;
      case 'schedule': {
        const failures = props.failureQueue!;
        this.function = new PipelineFunction(this, 'Handler', {
          ...base,
          deadLetterQueue: failures,
        }).function;
        const period =
          'everyMinutes' in input
            ? Duration.minutes(input.everyMinutes)
            : Duration.hours(input.everyHours);
        this.schedule(declaration, period, failures, props.description);
        break;
      }
    }
  }

  /** Runs the function every `period`; failed deliveries go to the (KMS-encrypted) failure queue. */
  private schedule(
    declaration: FunctionDeclaration,
    period: Duration,
    failures: sqs.IQueue,
    description = `privacy-ops: ${declaration.name}`,
  ): void {
    const stack = Stack.of(this);
    // A fixed name gives the key policy below the rule's ARN without a reference (no cycle).
    const ruleName = `${stack.stackName}-${declaration.name}`;
    new events.Rule(this, 'Schedule', {
      ruleName,
      description,
      schedule: events.Schedule.rate(period),
      targets: [
        new eventsTargets.LambdaFunction(this.function, {
          retryAttempts: 2,
          maxEventAge: period.toMinutes() < 1 ? Duration.minutes(1) : period,
          deadLetterQueue: failures,
        }),
      ],
    });
    failures.encryptionMasterKey?.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `AllowEventBridgeDeadLetterDeliveryFrom${this.node.id}`,
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          ArnEquals: {
            'aws:SourceArn': `arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/${ruleName}`,
          },
        },
      }),
    );
  }
}

/** Refuses an input whose queue, key or failure queue is missing, and a schedule not whole. */
function checkInput(id: string, props: DeclaredFunctionProps): void {
  const input = props.declaration.input;
  const needs: Record<FunctionInput['kind'], Array<keyof DeclaredFunctionProps>> = {
    'operation-queue': ['queueKey'],
    'ingress-queue': ['ingressQueue'],
    'ttl-removals': ['failureQueue'],
    schedule: ['failureQueue'],
  };
  for (const name of needs[input.kind]) {
    if (props[name] === undefined) {
      throw new Error(`${id}: ${name} is required for a function fed by ${input.kind}`);
    }
  }
  if (props.declaration.services.continuations && input.kind !== 'operation-queue')
    throw new Error(`${id}: only a function fed by its own queue can continue on it`);
  if (input.kind === 'schedule') {
    const [count, unit] =
      'everyMinutes' in input ? [input.everyMinutes, 'minutes'] : [input.everyHours, 'hours'];
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`${id}: a schedule runs every whole number of ${unit} ≥ 1`);
  }
}

/**
 * The retention table's stream, filtered to the deletions TTL made (service principal
 * dynamodb.amazonaws.com): failed batches are bisected, retried, then recorded in `failures`.
 */
function ttlRemovals(
  fn: DeclaredFunction,
  resources: PipelineResources,
  failures: sqs.IQueue,
): lambdaEventSources.DynamoEventSource {
  // The mapping and its failure destination get the table and queue without their key, so their
  // grants name no key; the function uses it only through DynamoDB and SQS.
  const table = resources.retentionTable;
  const keylessTable = dynamodb.Table.fromTableAttributes(fn, 'StreamSource', {
    tableArn: table.tableArn,
    tableStreamArn: table.tableStreamArn,
  });
  const keylessFailures = sqs.Queue.fromQueueAttributes(fn, 'FailureDestination', {
    queueArn: failures.queueArn,
    queueUrl: failures.queueUrl,
  });
  grantKeyThrough(fn.role, table.encryptionKey, 'dynamodb', 'decrypt');
  grantKeyThrough(fn.role, failures.encryptionMasterKey, 'sqs', 'encrypt-decrypt');
  return new lambdaEventSources.DynamoEventSource(keylessTable, {
    startingPosition: lambda.StartingPosition.TRIM_HORIZON,
    batchSize: 100,
    maxBatchingWindow: Duration.seconds(5),
    reportBatchItemFailures: true,
    retryAttempts: 10,
    bisectBatchOnError: true,
    onFailure: new lambdaEventSources.SqsDlq(keylessFailures),
    filters: [
      lambda.FilterCriteria.filter({
        eventName: lambda.FilterRule.isEqual('REMOVE'),
        userIdentity: {
          type: lambda.FilterRule.isEqual('Service'),
          principalId: lambda.FilterRule.isEqual('dynamodb.amazonaws.com'),
        },
      }),
    ],
  });
}
