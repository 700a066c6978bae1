import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateAliasCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { localClientOptions } from './client-options';
import { createBucket, createKey, createQueue, createTable } from './local-resources';
import { CfnResource, CfnTemplate } from './template';
import {
  pseudoParameters,
  resolveIntrinsics,
  ResolvedResource,
  UnresolvedReferenceError,
} from './intrinsics';

/** Where and how to create the local resources. */
export interface ProvisionOptions {
  readonly endpoint: string;
  readonly region: string;
  /** Prefix of every physical name, so several environments can share one endpoint. */
  readonly prefix: string;
  readonly log?: (line: string) => void;
}

/** A resource of the template that was not created locally, and why. */
export interface SkippedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly reason: string;
}

/**
 * A bucket S3 would replicate to (the checkpoints' anchor): created locally, where CloudFormation
 * on moto would drop the replication, and filled by the local replicator (local/replicator.ts).
 */
export interface LocalReplica {
  /** The source bucket (physical name). */
  readonly source: string;
  /** The local bucket standing for the destination. */
  readonly destination: string;
  /** Key prefix replicated. */
  readonly prefix: string;
  /** The destination's name in AWS, as the template gives it. */
  readonly declaredDestination: string;
}

/** The result of provisioning: physical ids, outputs and what could not be reproduced. */
export interface ProvisionedEnvironment {
  readonly endpoint: string;
  readonly region: string;
  readonly template: CfnTemplate;
  readonly resources: ReadonlyMap<string, ResolvedResource & { type: string }>;
  /** Stack outputs under their CloudFormation output names. */
  readonly outputs: Record<string, string>;
  readonly skipped: readonly SkippedResource[];
  /** Local settings that differ from the deployed ones (e.g. TLS-only policies not applied). */
  readonly notes: readonly string[];
  readonly pseudo: Record<string, string>;
  /** Replication destinations created locally (see {@link LocalReplica}). */
  readonly replicas?: readonly LocalReplica[];
}

const NOT_LOCAL: Record<string, string> = {
  'AWS::IAM::Role': 'IAM is not enforced by the local endpoint',
  'AWS::IAM::Policy': 'IAM is not enforced by the local endpoint',
  'AWS::IAM::ManagedPolicy': 'IAM is not enforced by the local endpoint',
  'AWS::S3::BucketPolicy':
    'bucket policies are enforced by moto, and the TLS-only Deny would refuse every plain-HTTP call to the local endpoint',
  'AWS::SQS::QueuePolicy': 'queue policies (TLS-only) are not applied over plain HTTP locally',
  'AWS::Logs::LogGroup': 'handlers log to the console locally',
  'AWS::Glue::Database':
    'Glue is not used locally: auditor SQL runs on DuckDB over the log objects',
  'AWS::Glue::Table': 'Glue is not used locally: auditor SQL runs on DuckDB over the log objects',
  'AWS::Athena::WorkGroup': 'Athena returns no rows on moto: auditor SQL runs on DuckDB locally',
  'AWS::Athena::NamedQuery': 'named queries run on DuckDB locally (privacy-ops log query)',
  'AWS::CloudWatch::Alarm': 'alarms are not evaluated locally',
  'AWS::SNS::Topic': 'alarm notifications are not delivered locally',
  'AWS::SNS::TopicPolicy': 'alarm notifications are not delivered locally',
  'AWS::Lambda::EventSourceMapping': 'run by the local runtime pollers',
  'AWS::Lambda::Permission': 'invocation permissions are not enforced locally',
  'AWS::Events::Rule': 'run by the local runtime scheduler',
  'AWS::Scheduler::Schedule': 'run by the local runtime scheduler',
  'AWS::CDK::Metadata': 'CDK metadata',
  'Custom::S3AutoDeleteObjects': 'custom resource',
};

/** Where the declared name of a resource that is not created locally sits in its properties. */
const DECLARED_NAME: Record<string, (props: Record<string, unknown>) => unknown> = {
  'AWS::Glue::Database': (p) => (p.DatabaseInput as { Name?: unknown } | undefined)?.Name,
  'AWS::Glue::Table': (p) => (p.TableInput as { Name?: unknown } | undefined)?.Name,
  'AWS::Athena::WorkGroup': (p) => p.Name,
};

function physicalName(prefix: string, logicalId: string, maxLength: number): string {
  const slug = logicalId.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
  const name = `${prefix}-${slug}`;
  if (name.length <= maxLength) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, maxLength - 9)}-${hash}`;
}

const ORDER = [
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
  'AWS::S3::Bucket',
  'AWS::SQS::Queue',
  'AWS::DynamoDB::Table',
  'AWS::Lambda::Function',
];

/**
 * Creates on the local endpoint every resource of the template that the handlers use — KMS keys,
 * buckets (versioning, Object Lock default retention, encryption), queues (redrive), tables (keys,
 * indexes, streams, TTL) — and lists what cannot be reproduced locally. Functions are not created
 * on the endpoint; they get a physical name and ARN for the local runtime.
 */
export async function provisionFromTemplate(
  template: CfnTemplate,
  options: ProvisionOptions,
): Promise<ProvisionedEnvironment> {
  const provisioner = new Provisioner(template, options);
  try {
    return await provisioner.provision();
  } finally {
    provisioner.destroy();
  }
}

type CreatedResource = ResolvedResource & { type: string };

/** One provisioning of a template: the clients, and what was created so far. */
class Provisioner {
  private readonly s3: S3Client;
  private readonly ddb: DynamoDBClient;
  private readonly sqs: SQSClient;
  private readonly kms: KMSClient;
  private readonly pseudo: Record<string, string>;
  private readonly resources = new Map<string, CreatedResource>();
  private readonly notes: string[] = [];
  private readonly replicas: LocalReplica[] = [];
  private readonly log: (line: string) => void;

  constructor(
    private readonly template: CfnTemplate,
    private readonly options: ProvisionOptions,
  ) {
    const clientOptions = localClientOptions(options.endpoint, options.region);
    this.s3 = new S3Client(clientOptions);
    this.ddb = new DynamoDBClient(clientOptions);
    this.sqs = new SQSClient(clientOptions);
    this.kms = new KMSClient(clientOptions);
    this.pseudo = pseudoParameters(options.region);
    this.log = options.log ?? (() => undefined);
  }

  async provision(): Promise<ProvisionedEnvironment> {
    const entries = Object.entries(this.template.Resources);
    const skipped: SkippedResource[] = entries
      .filter(([, r]) => !ORDER.includes(r.Type))
      .map(([logicalId, r]) => ({
        logicalId,
        type: r.Type,
        reason: NOT_LOCAL[r.Type] ?? 'no local equivalent',
      }));
    this.nameRoles(entries);
    await this.createInOrder(
      entries
        .filter(([, r]) => ORDER.includes(r.Type))
        .sort(([, a], [, b]) => ORDER.indexOf(a.Type) - ORDER.indexOf(b.Type)),
    );
    this.nameWhatIsNotLocal(entries);
    const outputs = this.outputs();
    for (const [name, value] of Object.entries(outputs)) {
      const replica = this.replicas.find((r) => r.declaredDestination === value);
      if (replica) outputs[name] = replica.destination;
    }
    const { endpoint, region } = this.options;
    const { template, resources, notes, pseudo, replicas } = this;
    return { endpoint, region, template, resources, outputs, skipped, notes, pseudo, replicas };
  }

  destroy(): void {
    for (const client of [this.s3, this.ddb, this.sqs, this.kms]) client.destroy();
  }

  /** Creates the resources, deferring one whose references are not created yet. */
  private async createInOrder(entries: Array<[string, CfnResource]>): Promise<void> {
    let pending = entries;
    while (pending.length > 0) {
      const deferred: Array<[string, CfnResource]> = [];
      let lastError: UnresolvedReferenceError | undefined;
      for (const [logicalId, resource] of pending) {
        let props: Record<string, unknown>;
        try {
          props = this.propertiesOf(resource);
        } catch (error) {
          if (!(error instanceof UnresolvedReferenceError)) throw error;
          deferred.push([logicalId, resource]);
          lastError = error;
          continue;
        }
        const created = await this.create(logicalId, resource.Type, props);
        this.resources.set(logicalId, { ...created, type: resource.Type });
        this.log(`  created ${resource.Type.padEnd(22)} ${logicalId} -> ${created.ref}`);
      }
      if (deferred.length === pending.length) {
        throw new Error(
          `Cannot provision ${deferred.map(([id]) => id).join(', ')}: ${lastError?.message}`,
        );
      }
      pending = deferred;
    }
  }

  /** A resource's properties with their intrinsics resolved (a function's are not needed). */
  private propertiesOf(resource: CfnResource): Record<string, unknown> {
    if (resource.Type === 'AWS::Lambda::Function') return {};
    const resolved = resolveIntrinsics(resource.Properties ?? {}, this.resources, this.pseudo);
    return (resolved as Record<string, unknown>) ?? {};
  }

  private async create(
    logicalId: string,
    type: string,
    props: Record<string, unknown>,
  ): Promise<ResolvedResource> {
    const { prefix, region } = this.options;
    switch (type) {
      case 'AWS::KMS::Key':
        return createKey(this.kms, props);
      case 'AWS::KMS::Alias': {
        const aliasName = `alias/${prefix}-${String(props.AliasName).replace(/^alias\//, '')}`;
        await this.kms.send(
          new CreateAliasCommand({
            AliasName: aliasName,
            TargetKeyId: props.TargetKeyId as string,
          }),
        );
        return { ref: aliasName, attributes: {} };
      }
      case 'AWS::S3::Bucket': {
        const name = physicalName(prefix, logicalId, 63);
        const created = await createBucket(this.s3, name, region, props, this.notes);
        if (props.ReplicationConfiguration) await this.createReplicas(logicalId, name, props);
        return created;
      }
      case 'AWS::SQS::Queue':
        return createQueue(this.sqs, physicalName(prefix, logicalId, 75), props);
      case 'AWS::DynamoDB::Table':
        return createTable(this.ddb, physicalName(prefix, logicalId, 255), props);
      default: {
        // AWS::Lambda::Function: run by the local runtime; a name and an ARN for references.
        const name = physicalName(prefix, logicalId, 64);
        const account = this.pseudo['AWS::AccountId'];
        return {
          ref: name,
          attributes: { Arn: `arn:aws:lambda:${region}:${account}:function:${name}` },
        };
      }
    }
  }

  /**
   * The destinations of a bucket's replication rules, as local buckets with the source's Object
   * Lock settings: the local replicator copies the replicated prefix into them.
   */
  private async createReplicas(
    logicalId: string,
    source: string,
    props: Record<string, unknown>,
  ): Promise<void> {
    const rules =
      (
        props.ReplicationConfiguration as {
          Rules: Array<{ Filter?: { Prefix?: string }; Destination: { Bucket: string } }>;
        }
      ).Rules ?? [];
    for (const [i, rule] of rules.entries()) {
      const destination = physicalName(this.options.prefix, `${logicalId}Replica${i}`, 63);
      await createBucket(
        this.s3,
        destination,
        this.options.region,
        {
          ObjectLockEnabled: props.ObjectLockEnabled,
          ObjectLockConfiguration: props.ObjectLockConfiguration,
          VersioningConfiguration: { Status: 'Enabled' },
        },
        this.notes,
      );
      const declaredDestination = rule.Destination.Bucket.replace(/^arn:[^:]+:s3:::/, '');
      this.replicas.push({
        source,
        destination,
        prefix: rule.Filter?.Prefix ?? '',
        declaredDestination,
      });
      this.notes.push(
        `${source}: replication to ${declaredDestination} is done by the local replicator into ${destination} (CloudFormation on moto does not replicate)`,
      );
    }
  }

  /**
   * IAM roles are not created locally, but a key policy may name one (the checkpoint key names
   * the checkpointer's role): each gets the name and ARN it would have.
   */
  private nameRoles(entries: Array<[string, CfnResource]>): void {
    const account = this.pseudo['AWS::AccountId'];
    for (const [logicalId, resource] of entries) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const name = physicalName(this.options.prefix, logicalId, 64);
      this.resources.set(logicalId, {
        ref: name,
        attributes: { Arn: `arn:aws:iam::${account}:role/${name}` },
        type: resource.Type,
      });
    }
  }

  /** Resources that exist only in AWS still have a declared name that outputs refer to. */
  private nameWhatIsNotLocal(entries: Array<[string, CfnResource]>): void {
    for (const [logicalId, resource] of entries) {
      const declared = DECLARED_NAME[resource.Type]?.(resource.Properties ?? {});
      if (declared === undefined || this.resources.has(logicalId)) continue;
      try {
        const name = String(resolveIntrinsics(declared, this.resources, this.pseudo));
        this.resources.set(logicalId, { ref: name, attributes: {}, type: resource.Type });
      } catch {
        // refers to something else that is not local either
      }
    }
  }

  /** The stack outputs under their names. */
  private outputs(): Record<string, string> {
    const outputs: Record<string, string> = {};
    for (const [name, output] of Object.entries(this.template.Outputs ?? {})) {
      try {
        outputs[name] = String(resolveIntrinsics(output.Value, this.resources, this.pseudo));
      } catch (error) {
        // An output naming a resource that exists only in AWS (e.g. the alarm topic) still gets a
        // value, the local physical name it would have, and the output file says so.
        const missing = error instanceof UnresolvedReferenceError ? error.logicalId : undefined;
        const resource = missing ? this.template.Resources[missing] : undefined;
        if (!missing || !resource) throw error;
        this.nameOnlyInAws(missing, resource.Type);
        outputs[name] = String(resolveIntrinsics(output.Value, this.resources, this.pseudo));
        this.notes.push(
          `output ${name} names ${resource.Type} ${missing}, which is not created locally`,
        );
      }
    }
    return outputs;
  }

  private nameOnlyInAws(logicalId: string, type: string): void {
    const { prefix, region } = this.options;
    const local = physicalName(prefix, logicalId, 256);
    const service = type.split('::')[1]?.toLowerCase() ?? 'unknown';
    this.resources.set(logicalId, {
      ref: `arn:aws:${service}:${region}:${this.pseudo['AWS::AccountId']}:${local}`,
      attributes: {},
      type,
    });
  }
}
