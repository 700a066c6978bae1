import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { DEPLOYED_CONFIG_GLOBAL, type DeployedConfigDocuments } from '../../shared/deployed-config';
import { PACKAGE_ROOT } from '../package-root';
import { FunctionRole, type FunctionRoleProps } from './function-role';

/** Template metadata key naming a function's source file; the local runtime loads handlers from it. */
export const ENTRY_METADATA_KEY = 'privacy-ops:entry';

/**
 * How every function is bundled (esbuild): minified with source maps, for Node.js 24, the AWS SDK
 * bundled (only the clients a function imports), ES module builds preferred so esbuild can drop
 * what is not used. The benchmark builds with the same settings.
 */
export const BUNDLE_SETTINGS = {
  minify: true,
  sourcemap: true,
  target: 'node24',
  mainFields: ['module', 'main'],
  /** In Lambda, credentials come from the environment only (see shared/aws/lambda-credentials.ts). */
  alias: {
    '@aws-sdk/credential-provider-node': path.join(
      PACKAGE_ROOT,
      'shared',
      'aws',
      'lambda-credentials.ts',
    ),
  },
} as const;

/** The newest Node.js runtime aws-cdk-lib offers. */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** The properties of the execution role of the function serving `serviceName`. */
export function functionRoleProps(serviceName: string): FunctionRoleProps {
  return { description: `privacy-ops ${serviceName} function` };
}

/** Properties of a {@link PipelineFunction}. */
export interface PipelineFunctionProps {
  /** Source file of the handler, relative to the repository root, e.g. `functions/intake.ts`. */
  readonly entry: string;
  /** Service name for logs and metrics. */
  readonly serviceName: string;
  /** KMS key encrypting the function's log group (its key policy must admit CloudWatch Logs). */
  readonly logKey: kms.IKey;
  /** Timeout. @default 30 seconds */
  readonly timeout?: Duration;
  /** Memory. @default 512 MB */
  readonly memorySize?: number;
  /**
   * Reserved concurrency: caps what one function can take from the account and guarantees it
   * that much. Must cover the event source's own maximum concurrency. @default 5
   */
  readonly reservedConcurrentExecutions?: number;
  /** Environment variables (the construct adds the Powertools ones). @default none */
  readonly environment?: Record<string, string>;
  /** Log group retention. @default one year */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Dead-letter queue for asynchronous invocations (schedules). Omit for functions invoked only
   * synchronously by an event source mapping, whose failures the mapping handles.
   * @default none (the function is acknowledged as synchronously invoked)
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * The execution role, when the caller grants on it before the function exists.
   * @default a new {@link FunctionRole} of its own
   */
  readonly role?: FunctionRole;
  /**
   * The retention policy, instructions and producer registry compiled into the bundle.
   * @default none: the function reads the package's `config/` files
   */
  readonly deployedConfig?: DeployedConfigDocuments;
}

/**
 * One Lambda function of the pipeline: bundled on its own by esbuild (minified, source maps),
 * arm64, the newest Node.js runtime, a KMS-encrypted log group with retention, active tracing,
 * reserved concurrency, and its own least-privilege role that cannot call outside the stack's
 * region. Refuses an entry outside `functions/` and a reserved concurrency below 1.
 */
export class PipelineFunction extends Construct {
  /** The function. */
  readonly function: nodejs.NodejsFunction;
  /** Its log group. */
  readonly logGroup: logs.LogGroup;
  /** Its execution role. */
  readonly role: FunctionRole;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    if (!/^functions\/[a-z0-9-]+\.ts$/.test(props.entry)) {
      throw new Error(`${id}: entry must be a file under functions/, got ${props.entry}`);
    }
    const reserved = props.reservedConcurrentExecutions ?? 5;
    if (!Number.isInteger(reserved) || reserved < 1) {
      throw new Error(
        `${id}: reservedConcurrentExecutions must be a whole number ≥ 1, got ${reserved}`,
      );
    }
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = props.role ?? new FunctionRole(this, 'Role', functionRoleProps(props.serviceName));
    this.logGroup.grantWrite(this.role);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(PACKAGE_ROOT, props.entry),
      handler: 'handler',
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      reservedConcurrentExecutions: reserved,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      role: this.role,
      deadLetterQueueEnabled: props.deadLetterQueue ? true : undefined,
      deadLetterQueue: props.deadLetterQueue,
      environment: {
        // Read by the Powertools logger every function builds; metrics name their namespace in
        // code, so that no variable can move them away from their alarms.
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        minify: BUNDLE_SETTINGS.minify,
        sourceMap: BUNDLE_SETTINGS.sourcemap,
        target: BUNDLE_SETTINGS.target,
        mainFields: [...BUNDLE_SETTINGS.mainFields],
        esbuildArgs: Object.fromEntries(
          Object.entries(BUNDLE_SETTINGS.alias).map(([from, to]) => [`--alias:${from}`, to]),
        ),
        format: nodejs.OutputFormat.CJS,
        externalModules: [],
        define: props.deployedConfig
          ? { [DEPLOYED_CONFIG_GLOBAL]: JSON.stringify(props.deployedConfig) }
          : undefined,
      },
    });
    const cfn = this.function.node.defaultChild as lambda.CfnFunction;
    cfn.addMetadata(ENTRY_METADATA_KEY, props.entry);

    for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
      Validations.of(cfn).acknowledge({
        id: `${pack}-LambdaInsideVPC`,
        reason:
          'The function reaches only regional AWS APIs (S3, SQS, DynamoDB, KMS) over TLS with IAM ' +
          'authentication and region-locked credentials; it has no network resource to protect, and a ' +
          'VPC would add NAT or interface endpoints without narrowing any data path.',
      });
    }
    if (!props.deadLetterQueue) {
      for (const id of [
        'HIPAA.Security-LambdaDLQ',
        'NIST.800.53.R5-LambdaDLQ',
        'Serverless-LambdaDLQ',
      ]) {
        Validations.of(cfn).acknowledge({
          id,
          reason:
            'Invoked only synchronously by its event source mapping; failed messages go to the ' +
            "queue's redrive dead-letter queue (or the mapping's on-failure queue), so a function " +
            'dead-letter queue would never receive anything.',
        });
      }
    }
  }
}
