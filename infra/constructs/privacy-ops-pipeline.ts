import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { FUNCTIONS } from '../../shared/functions/declarations';
import type { ProducerRegistry } from '../../shared/intake/producer-registry';
import { QUEUE_OPERATIONS } from '../../shared/operations/routes';
import {
  partnerRegion,
  type AllowedRegion,
  type DeploymentConfig,
  type QueueFedFunctionName,
  type QueueScaling,
} from '../config';
import { resolvePipelineSettings } from '../pipeline-settings';
import { CheckpointReplication } from './checkpoint-replication';
import { CheckpointSigningKey } from './checkpoint-signing-key';
import { PipelineAlarms } from './pipeline-alarms';
import { pascal, pipelineFunctions } from './pipeline-functions';
import {
  invocationFailureQueue,
  pipelineBuckets,
  pipelineTables,
  purposeKeys,
} from './pipeline-stores';
import { ProcessingLogCatalog } from './processing-log-catalog';
import { ProducerAccess } from './producer-access';
import { SecureQueue } from './secure-queue';

/** Overrides of how queue-fed functions take their queue, per function and field. */
export type ScalingOverrides = {
  readonly [F in QueueFedFunctionName]?: Partial<QueueScaling>;
};

/** Properties of a {@link PrivacyOpsPipeline}. Every one is checked when the app synthesizes. */
export interface PrivacyOpsPipelineProps {
  /**
   * The region the pipeline runs in: eu-west-3 or eu-west-1, and the region of the enclosing
   * stack, which must be set (`env.region`). Any other region is refused, so that personal data
   * never leaves the EU. The checkpoint anchor lives in the other region of the pair.
   * @default the enclosing stack's region
   */
  readonly region?: AllowedRegion | string;
  /**
   * The retention policy: its categories, their periods and legal bounds. A JSON file path
   * (relative to the directory the app synthesizes in) or the parsed document; validated at
   * synthesis and compiled into every function.
   * @default the package's config/retention-policy.json
   */
  readonly retentionPolicy?: string | object;
  /**
   * The controllers' instructions over the policy (per tenant: controller, retention, fiscal year
   * end, time zone). A JSON file path or the parsed document; an instruction outside its
   * category's legal bounds is refused naming the tenant and the category.
   * @default the package's config/tenants.json (no tenant; fiscal years end 12-31, Europe/Paris)
   */
  readonly tenantInstructions?: string | object;
  /**
   * Who may send events and upload documents, and for which tenants: a JSON file path, the parsed
   * document, or a loaded registry. The ingress queue and the upload bucket admit these producers
   * only, and the intake refuses anything outside a registration.
   * @default the package's config/producers.json (admits no producer)
   */
  readonly producers?: string | object | ProducerRegistry;
  /**
   * E-mail addresses subscribed to the alarm topic (each confirms by e-mail).
   * @default none
   */
  readonly alarmEmails?: readonly string[];
  /**
   * Object Lock (COMPLIANCE) retention of the processing log, in days (1-36500).
   * @default 3653 (ten years)
   */
  readonly logRetentionDays?: number;
  /**
   * Retention of the functions' log groups, in days: a period CloudWatch Logs accepts.
   * @default 365
   */
  readonly functionLogRetentionDays?: number;
  /**
   * Age in days of the oldest document waiting for an account closure that raises an alarm.
   * @default 1096 (three years)
   */
  readonly waitingForClosureAlarmDays?: number;
  /**
   * Batch size (1-10000), batching window (0-300 s) and maximum concurrency (2-1000) of the
   * queue-fed functions, over the defaults; reserved concurrency equals maximum concurrency.
   * @default DEFAULT_QUEUE_SCALING (intake 20, upload 50, each request 5 concurrent batches of 10)
   */
  readonly scaling?: ScalingOverrides;
  /**
   * The account's concurrency limit: the reservations must leave 100 of it unreserved.
   * @default 1000
   */
  readonly accountConcurrency?: number;
  /**
   * The largest document the upload function takes, in bytes (1 byte to 5 GiB).
   * @default 536870912 (512 MiB)
   */
  readonly maxDocumentBytes?: number;
}

/**
 * The privacy-ops pipeline in one EU region: keys by purpose, buckets (landing, vault, export,
 * processing log under Object Lock), tables, queues, one function per operation built from its
 * declaration and bundled with the given policy and producers, the auditors' catalog, the alarms
 * and the replication of the log's checkpoints to the anchor in the other EU region (deploy a
 * `CheckpointAnchorStack` there first). Refuses a region outside eu-west-3/eu-west-1, an
 * environment-agnostic stack, and any invalid setting, policy or registry, at synthesis.
 */
export class PrivacyOpsPipeline extends Construct {
  /** The validated settings it was built with. */
  readonly config: DeploymentConfig;
  /** The region of the checkpoint anchor (the other region of the EU pair). */
  readonly anchorRegion: AllowedRegion;
  /** The queue producers send events to. */
  readonly ingressQueue: sqs.IQueue;
  /** Where refused events go, each with its reason. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The landing bucket producers upload documents to. */
  readonly uploadBucket: s3.IBucket;
  /** The vault of envelope-encrypted documents. */
  readonly vaultBucket: s3.IBucket;
  /** Subject exports (access requests). */
  readonly exportBucket: s3.IBucket;
  /** The processing log, under Object Lock. */
  readonly logBucket: s3.IBucket;
  /** Retention items, open requests and documents waiting for a closure. */
  readonly retentionTable: dynamodb.ITable;
  /** The auditors' Glue database, table and Athena workgroup over the log. */
  readonly catalog: ProcessingLogCatalog;
  /** The alarm topic. */
  readonly alarmTopic: sns.ITopic;
  /** The key signing the log's checkpoints. */
  readonly checkpointKey: kms.IKey;
  /** The function signing the checkpoints. */
  readonly checkpointer: lambda.IFunction;
  /** The name of the anchor bucket the checkpoints replicate to. */
  readonly anchorBucketName: string;

  constructor(scope: Construct, id: string, props: PrivacyOpsPipelineProps = {}) {
    super(scope, id);
    const { config, producers, documents } = resolvePipelineSettings(this, props);
    this.config = config;
    this.anchorRegion = partnerRegion(config.region);
    // Server access logs are delivered by bucket policy (logging.s3.amazonaws.com), not ACLs.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const keys = purposeKeys(this);
    const buckets = pipelineBuckets(this, keys, config.logRetentionDays);
    const tables = pipelineTables(this, keys.data);
    const ingress = new SecureQueue(this, 'Ingress', {
      encryptionKey: keys.data,
      consumerTimeout: Duration.seconds(FUNCTIONS.intake.timeoutSeconds),
    });
    new ProducerAccess(this, 'ProducerAccess', {
      registry: producers,
      ingressQueue: ingress.queue,
      uploadBucket: buckets.upload,
      key: keys.data,
    });
    const invocationFailures = invocationFailureQueue(this, keys.data);
    const checkpointKey = new CheckpointSigningKey(this, 'CheckpointKey');
    const replication = new CheckpointReplication(this, 'CheckpointReplication', {
      logBucket: buckets.log,
      logKey: keys.log,
      anchorRegion: this.anchorRegion,
    });

    // --- Functions: one per declaration, with the variables and grants of its services -------
    const { operationQueues, checkpointer } = pipelineFunctions(
      this,
      {
        resources: {
          logBucket: buckets.log,
          pseudonymKey: keys.pseudonym,
          idempotencyTable: tables.idempotency,
          deadLetterQueue: ingress.deadLetterQueue,
          retentionTable: tables.retention,
          vaultBucket: buckets.vault,
          keyStore: tables.keyStore,
          documentsKey: keys.documents,
          uploadBucket: buckets.upload,
          exportBucket: buckets.export,
          checkpointKey: checkpointKey.key,
          maxDocumentBytes: config.maxDocumentBytes,
        },
        logKey: keys.operations,
        queueKey: keys.data,
        logRetention: config.functionLogRetentionDays as logs.RetentionDays,
        ingressQueue: ingress.queue,
        failureQueue: invocationFailures,
        deployedConfig: documents,
      },
      config.scaling,
    );
    checkpointKey.allowSigningBy(checkpointer.role);

    // --- Auditors: Glue table over the log, Athena workgroup, named queries ------------------
    this.catalog = new ProcessingLogCatalog(this, 'ProcessingLogCatalog', {
      logBucket: buckets.log,
      resultsKey: keys.log,
      serverAccessLogsBucket: buckets.accessLogs,
    });

    // --- Alarms -----------------------------------------------------------------------------
    const alarms = new PipelineAlarms(this, 'Alarms', {
      topicKey: keys.operations,
      alarmEmails: config.alarmEmails,
      waitingForClosureAlarmDays: config.waitingForClosureAlarmDays,
      deadLetterQueues: {
        DeadLetterQueue: ingress.deadLetterQueue,
        InvocationFailureQueue: invocationFailures,
      },
      workQueues: {
        IngressQueue: ingress.queue,
        ...Object.fromEntries(
          QUEUE_OPERATIONS.map((operation) => [
            `${pascal(operation)}Queue`,
            operationQueues[operation],
          ]),
        ),
      },
    });

    this.ingressQueue = ingress.queue;
    this.deadLetterQueue = ingress.deadLetterQueue;
    this.uploadBucket = buckets.upload;
    this.vaultBucket = buckets.vault;
    this.exportBucket = buckets.export;
    this.logBucket = buckets.log;
    this.retentionTable = tables.retention;
    this.alarmTopic = alarms.topic;
    this.checkpointKey = checkpointKey.key;
    this.checkpointer = checkpointer.function;
    this.anchorBucketName = replication.anchorBucketName;
  }
}
