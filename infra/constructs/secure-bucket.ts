import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Properties of a {@link SecureBucket}. */
export interface SecureBucketProps {
  /** Physical name, when others must know it without a reference. @default generated */
  readonly bucketName?: string;
  /**
   * Key for SSE-KMS (with an S3 bucket key). Required, except for the access-log target, which
   * S3 server access logging can only write with SSE-S3.
   * @default none (only allowed with `serverAccessLogTarget`)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * This bucket receives the server access logs of the others: SSE-S3 (the only default
   * encryption S3 log delivery supports), delivery allowed by bucket policy (no ACLs), and no
   * access logging of itself.
   * @default false
   */
  readonly serverAccessLogTarget?: boolean;
  /** Bucket receiving the server access logs; required unless this is the access-log target. @default none */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /** Enable versioning. @default true */
  readonly versioned?: boolean;
  /** Object Lock default retention in COMPLIANCE mode, in days. @default no Object Lock */
  readonly objectLockComplianceDays?: number;
  /** Lifecycle rules. @default none */
  readonly lifecycleRules?: s3.LifecycleRule[];
  /** Removal policy. @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Why this bucket has no cross-region replication (the rule packs ask for it). Data stays
   * in eu-west-3 or eu-west-1, so a replica could only sit in the other of the two.
   * @default a reason valid for every bucket of this stack
   */
  readonly noReplicationReason?: string;
}

const DEFAULT_NO_REPLICATION =
  'Single-region by design (data stays in eu-west-3 or eu-west-1): S3 stores objects across several ' +
  'availability zones, versioning keeps overwritten and deleted objects recoverable, and a replica ' +
  'would be another copy that erasure and expiry must reach.';

/**
 * An S3 bucket that carries its own security: SSE-KMS with a bucket key, public access
 * blocked, TLS-only policy, ACLs disabled (bucket owner enforced), versioning on, server
 * access logs to the given bucket, optional Object Lock in COMPLIANCE mode. Refuses a bucket
 * without a KMS key or without access logging unless it is the access-log target, and Object
 * Lock without versioning.
 */
export class SecureBucket extends Construct {
  /** The bucket. */
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    const target = props.serverAccessLogTarget ?? false;
    if (!target && !props.encryptionKey) {
      throw new Error(
        `${id}: encryptionKey is required (SSE-KMS) unless serverAccessLogTarget is set`,
      );
    }
    if (target && props.encryptionKey) {
      throw new Error(
        `${id}: the server access log target must use SSE-S3; S3 log delivery cannot write with SSE-KMS`,
      );
    }
    if (!target && !props.serverAccessLogsBucket) {
      throw new Error(
        `${id}: serverAccessLogsBucket is required (every bucket's access is logged)`,
      );
    }
    if (props.objectLockComplianceDays !== undefined) {
      if (!Number.isInteger(props.objectLockComplianceDays) || props.objectLockComplianceDays < 1) {
        throw new Error(`${id}: objectLockComplianceDays must be a positive whole number of days`);
      }
      if (props.versioned === false) throw new Error(`${id}: Object Lock requires versioning`);
    }
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: target ? s3.BucketEncryption.S3_MANAGED : s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: target ? undefined : true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: props.versioned ?? true,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsBucket ? `${id.toLowerCase()}/` : undefined,
      objectLockEnabled: props.objectLockComplianceDays !== undefined ? true : undefined,
      objectLockDefaultRetention:
        props.objectLockComplianceDays !== undefined
          ? s3.ObjectLockRetention.compliance(Duration.days(props.objectLockComplianceDays))
          : undefined,
      lifecycleRules: props.lifecycleRules,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    const cfn = this.bucket.node.defaultChild as s3.CfnBucket;
    for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
      Validations.of(cfn).acknowledge({
        id: `${pack}-S3BucketReplicationEnabled`,
        reason: props.noReplicationReason ?? DEFAULT_NO_REPLICATION,
      });
      if (target) {
        Validations.of(cfn).acknowledge({
          id: `${pack}-S3DefaultEncryptionKMS`,
          reason:
            'Server access log target: S3 log delivery supports only SSE-S3 (AES-256) default ' +
            'encryption on the destination bucket; the logs hold request metadata, not documents.',
        });
      }
    }
    if (target) {
      Validations.of(cfn).acknowledge({
        id: 'AwsSolutions-S1',
        reason: 'This is the server access log bucket; logging it into itself would loop.',
      });
      for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
        Validations.of(cfn).acknowledge({
          id: `${pack}-S3BucketLoggingEnabled`,
          reason: 'This is the server access log bucket; logging it into itself would loop.',
        });
      }
    }
  }
}
