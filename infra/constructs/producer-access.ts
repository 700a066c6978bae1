import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ProducerRegistry, RegisteredProducer } from '../../shared/intake/producer-registry';

/** Properties of a {@link ProducerAccess}. */
export interface ProducerAccessProps {
  /** Who may act for which tenant (config/producers.json). */
  readonly registry: ProducerRegistry;
  /** The queue producers send events to. */
  readonly ingressQueue: sqs.IQueue;
  /** The bucket producers put documents in, under `<tenant>/`. */
  readonly uploadBucket: s3.IBucket;
  /** The key encrypting both (SSE-KMS): producers use it through SQS and S3 only. */
  readonly key: kms.IKey;
}

/**
 * The `aws:userid` values of a producer's calls: a user's unique id, or a role's followed by
 * `:<session>` (any session), as SQS also reports the sender.
 */
export function userIdPatterns(producer: RegisteredProducer): string {
  return producer.senderId.startsWith('AROA') ? `${producer.senderId}:*` : producer.senderId;
}

/**
 * The resource policies that admit only registered producers: each may send to the ingress
 * queue and put objects in the upload bucket under its own tenants' prefixes (`<tenant>/*`, or
 * everything for a producer registered for all tenants), and use the queue and bucket key
 * through those two services only. Every other principal is denied sending and putting, and a
 * producer is denied putting outside its tenants, whatever its own IAM policy allows. With no
 * producer registered, nobody may send or put. The intake checks the same registry per message
 * (source, tenant, type), from the sender id SQS reports.
 */
export class ProducerAccess extends Construct {
  constructor(scope: Construct, id: string, props: ProducerAccessProps) {
    super(scope, id);
    const { registry, ingressQueue, uploadBucket, key } = props;
    const producers = registry.producers;
    const registered = producers.map(userIdPatterns);
    const unregistered =
      registered.length > 0 ? { StringNotLike: { 'aws:userid': registered } } : undefined;
    const objectsOf = (p: RegisteredProducer) =>
      p.tenants === '*'
        ? [uploadBucket.arnForObjects('*')]
        : p.tenants.map((tenant) => uploadBucket.arnForObjects(`${tenant}/*`));

    ingressQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUnregisteredSenders',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['sqs:SendMessage'],
        resources: [ingressQueue.queueArn],
        conditions: unregistered,
      }),
    );
    uploadBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUnregisteredUploaders',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [uploadBucket.arnForObjects('*')],
        conditions: unregistered,
      }),
    );
    if (producers.length === 0) return;

    const principals = producers.map((p) => new iam.ArnPrincipal(p.principal));
    ingressQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowRegisteredProducers',
        principals,
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [ingressQueue.queueArn],
      }),
    );
    producers.forEach((producer, i) => {
      uploadBucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `AllowProducer${i}OwnTenants`,
          principals: [new iam.ArnPrincipal(producer.principal)],
          actions: ['s3:PutObject'],
          resources: objectsOf(producer),
        }),
      );
      if (producer.tenants === '*') return;
      uploadBucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `DenyProducer${i}OtherTenants`,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:PutObject'],
          notResources: objectsOf(producer),
          conditions: { StringLike: { 'aws:userid': userIdPatterns(producer) } },
        }),
      );
    });
    // SSE-KMS: SQS and S3 generate and read data keys under the key on the producer's behalf.
    const region = Stack.of(this).region;
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowRegisteredProducersThroughSqsAndS3',
        principals,
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          StringEquals: {
            'kms:ViaService': [`sqs.${region}.amazonaws.com`, `s3.${region}.amazonaws.com`],
          },
        },
      }),
    );
  }
}
