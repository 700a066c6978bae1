import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import * as path from 'node:path';

/** Template metadata key naming a function's source file; the local runtime loads handlers from it. */
export const ENTRY_METADATA_KEY = 'privacy-ops:entry';

/** The newest Node.js runtime aws-cdk-lib offers. */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Properties of a {@link PipelineFunction}. */
export interface PipelineFunctionProps {
  /** Source file of the handler, relative to the repository root, e.g. `functions/intake.ts`. */
  readonly entry: string;
  /** Service name for logs and metrics. */
  readonly serviceName: string;
  /** Timeout. @default 30 seconds */
  readonly timeout?: Duration;
  /** Memory. @default 512 MB */
  readonly memorySize?: number;
  /** Reserved concurrency. @default none */
  readonly reservedConcurrentExecutions?: number;
  /** Environment variables (the construct adds the Powertools ones). */
  readonly environment?: Record<string, string>;
  /** Log retention. @default one year */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One Lambda function of the pipeline: bundled on its own by esbuild (minified, source maps),
 * arm64, the newest Node.js runtime, an explicit log group with retention, active tracing.
 */
export class PipelineFunction extends Construct {
  /** The function. */
  readonly function: nodejs.NodejsFunction;
  /** Its log group. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    if (!/^functions\/[a-z0-9-]+\.ts$/.test(props.entry)) {
      throw new Error(`${id}: entry must be a file under functions/, got ${props.entry}`);
    }
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(__dirname, '..', '..', props.entry),
      handler: 'handler',
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'PrivacyOps',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node24',
        format: nodejs.OutputFormat.CJS,
        externalModules: [],
      },
    });
    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(
      ENTRY_METADATA_KEY,
      props.entry,
    );
  }
}
