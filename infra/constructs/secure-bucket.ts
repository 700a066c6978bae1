import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Properties of a {@link SecureBucket}. */
export interface SecureBucketProps {
  /** Key for SSE-KMS (with an S3 bucket key). */
  readonly encryptionKey: kms.IKey;
  /** Bucket receiving the server access logs; omit only for the access-log bucket itself. @default none */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /** Enable versioning. @default true */
  readonly versioned?: boolean;
  /** Object Lock default retention in COMPLIANCE mode, in days. @default no Object Lock */
  readonly objectLockComplianceDays?: number;
  /** Lifecycle rules. @default none */
  readonly lifecycleRules?: s3.LifecycleRule[];
  /** Removal policy. @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An S3 bucket that carries its own security: SSE-KMS with a bucket key, public access
 * blocked, TLS-only policy, ACLs disabled, versioning on, server access logs to the given bucket.
 */
export class SecureBucket extends Construct {
  /** The bucket. */
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    if (props.objectLockComplianceDays !== undefined) {
      if (!Number.isInteger(props.objectLockComplianceDays) || props.objectLockComplianceDays < 1) {
        throw new Error(`${id}: objectLockComplianceDays must be a positive whole number of days`);
      }
      if (props.versioned === false) throw new Error(`${id}: Object Lock requires versioning`);
    }
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
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
  }
}
