import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Properties of a {@link PurposeKey}. */
export interface PurposeKeyProps {
  /** What the key protects, in words; its description is `privacy-ops: <purpose>`. */
  readonly purpose: string;
  /**
   * `symmetric` (encryption, rotated yearly) or `hmac` (HMAC_256, GENERATE_VERIFY_MAC, which KMS
   * cannot rotate). @default symmetric
   */
  readonly kind?: 'symmetric' | 'hmac';
  /**
   * Let CloudWatch Logs use the key for the log groups of this account and region (encryption
   * context `aws:logs:arn`). @default false
   */
  readonly forCloudWatchLogs?: boolean;
}

/**
 * A customer-managed KMS key with one purpose: retained when the stack goes (data encrypted
 * under it must stay readable), symmetric keys rotated yearly, described by what they protect.
 * Keys are separated by purpose so that a grant on one never reaches data of another. Refuses an
 * empty purpose, and CloudWatch Logs on an HMAC key.
 */
export class PurposeKey extends Construct {
  /** The key. */
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: PurposeKeyProps) {
    super(scope, id);
    const hmac = props.kind === 'hmac';
    if (props.purpose.trim() === '')
      throw new Error(`${id}: purpose must say what the key protects`);
    if (hmac && props.forCloudWatchLogs) {
      throw new Error(`${id}: CloudWatch Logs encrypts with symmetric keys only`);
    }
    this.key = new kms.Key(this, 'Key', {
      description: `privacy-ops: ${props.purpose}`,
      enableKeyRotation: hmac ? undefined : true,
      keySpec: hmac ? kms.KeySpec.HMAC_256 : undefined,
      keyUsage: hmac ? kms.KeyUsage.GENERATE_VERIFY_MAC : undefined,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (props.forCloudWatchLogs) {
      const stack = Stack.of(this);
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
          principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
          actions: [
            'kms:Encrypt',
            'kms:Decrypt',
            'kms:ReEncryptFrom',
            'kms:ReEncryptTo',
            'kms:GenerateDataKey',
            'kms:DescribeKey',
          ],
          resources: ['*'],
          conditions: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
            },
          },
        }),
      );
    }
  }
}
