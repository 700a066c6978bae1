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

type Resolver = (value: unknown) => unknown;

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
  const { endpoint, region, prefix } = options;
  const log = options.log ?? (() => undefined);
  const clientOptions = localClientOptions(endpoint, region);
  const s3 = new S3Client(clientOptions);
  const ddb = new DynamoDBClient(clientOptions);
  const sqs = new SQSClient(clientOptions);
  const kms = new KMSClient(clientOptions);
  const pseudo = pseudoParameters(region);
  const resources = new Map<string, ResolvedResource & { type: string }>();
  const skipped: SkippedResource[] = [];
  const notes: string[] = [];

  const entries = Object.entries(template.Resources);
  for (const [logicalId, resource] of entries) {
    if (!ORDER.includes(resource.Type)) {
      skipped.push({
        logicalId,
        type: resource.Type,
        reason: NOT_LOCAL[resource.Type] ?? 'no local equivalent',
      });
    }
  }
  let pending: Array<[string, CfnResource]> = entries
    .filter(([, r]) => ORDER.includes(r.Type))
    .sort(([, a], [, b]) => ORDER.indexOf(a.Type) - ORDER.indexOf(b.Type));

  while (pending.length > 0) {
    const deferred: Array<[string, CfnResource]> = [];
    let lastError: UnresolvedReferenceError | undefined;
    for (const [logicalId, resource] of pending) {
      let props: Record<string, unknown>;
      try {
        const resolve: Resolver = (v) => resolveIntrinsics(v, resources, pseudo);
        props =
          resource.Type === 'AWS::Lambda::Function'
            ? {}
            : ((resolve(resource.Properties ?? {}) as Record<string, unknown>) ?? {});
      } catch (error) {
        if (error instanceof UnresolvedReferenceError) {
          deferred.push([logicalId, resource]);
          lastError = error;
          continue;
        }
        throw error;
      }
      let created: ResolvedResource;
      switch (resource.Type) {
        case 'AWS::KMS::Key':
          created = await createKey(kms, props);
          break;
        case 'AWS::KMS::Alias': {
          const aliasName = `alias/${prefix}-${String(props.AliasName).replace(/^alias\//, '')}`;
          await kms.send(
            new CreateAliasCommand({
              AliasName: aliasName,
              TargetKeyId: props.TargetKeyId as string,
            }),
          );
          created = { ref: aliasName, attributes: {} };
          break;
        }
        case 'AWS::S3::Bucket':
          created = await createBucket(
            s3,
            physicalName(prefix, logicalId, 63),
            region,
            props,
            notes,
          );
          break;
        case 'AWS::SQS::Queue':
          created = await createQueue(sqs, physicalName(prefix, logicalId, 75), props);
          break;
        case 'AWS::DynamoDB::Table':
          created = await createTable(ddb, physicalName(prefix, logicalId, 255), props);
          break;
        case 'AWS::Lambda::Function': {
          const name = physicalName(prefix, logicalId, 64);
          created = {
            ref: name,
            attributes: {
              Arn: `arn:aws:lambda:${region}:${pseudo['AWS::AccountId']}:function:${name}`,
            },
          };
          break;
        }
        default:
          continue;
      }
      resources.set(logicalId, { ...created, type: resource.Type });
      log(`  created ${resource.Type.padEnd(22)} ${logicalId} -> ${created.ref}`);
    }
    if (deferred.length === pending.length) {
      throw new Error(
        `Cannot provision ${deferred.map(([id]) => id).join(', ')}: ${lastError?.message}`,
      );
    }
    pending = deferred;
  }

  // Resources that exist only in AWS still have a declared name that outputs refer to.
  for (const [logicalId, resource] of entries) {
    const declared = DECLARED_NAME[resource.Type]?.(resource.Properties ?? {});
    if (declared === undefined || resources.has(logicalId)) continue;
    try {
      const name = String(resolveIntrinsics(declared, resources, pseudo));
      resources.set(logicalId, { ref: name, attributes: {}, type: resource.Type });
    } catch {
      // refers to something else that is not local either
    }
  }

  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    try {
      outputs[name] = String(resolveIntrinsics(output.Value, resources, pseudo));
    } catch (error) {
      // An output naming a resource that exists only in AWS (e.g. the alarm topic) still gets a
      // value, the local physical name it would have, and the output file says so.
      const missing = error instanceof UnresolvedReferenceError ? error.logicalId : undefined;
      const resource = missing ? template.Resources[missing] : undefined;
      if (!missing || !resource) throw error;
      const local = physicalName(prefix, missing, 256);
      const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
      resources.set(missing, {
        ref: `arn:aws:${service}:${region}:${pseudo['AWS::AccountId']}:${local}`,
        attributes: {},
        type: resource.Type,
      });
      outputs[name] = String(resolveIntrinsics(output.Value, resources, pseudo));
      notes.push(`output ${name} names ${resource.Type} ${missing}, which is not created locally`);
    }
  }
  for (const client of [s3, ddb, sqs, kms]) client.destroy();
  return { endpoint, region, template, resources, outputs, skipped, notes, pseudo };
}
