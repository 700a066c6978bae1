import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * What the account may do with the key: manage it, describe it and read its public half, never
 * sign nor grant (a grant could hand signing to another principal). No `kms:*`, so an IAM policy
 * can add nothing the key policy does not allow.
 */
export const CHECKPOINT_KEY_ADMIN_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:GetPublicKey',
  'kms:ListResourceTags',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:PutKeyPolicy',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateKeyDescription',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:RevokeGrant',
  'kms:RetireGrant',
];

/**
 * The asymmetric KMS key that signs the processing log's checkpoints: ECC_NIST_P256,
 * SIGN_VERIFY (ECDSA_SHA_256), retained when the stack goes (old checkpoints must stay
 * checkable). Its key policy lets the account manage it and read its public key, and one role
 * sign with it: the one given to {@link allowSigningBy}, once. KMS never rotates an asymmetric
 * key: a new key means a new log origin for auditors (docs/auditor.md).
 */
export class CheckpointSigningKey extends Construct {
  /** The key. */
  readonly key: kms.Key;
  private signer?: iam.IRole;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'privacy-ops: signs the checkpoints of the processing log',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AccountManagesAndReadsThePublicKey',
            principals: [new iam.AccountRootPrincipal()],
            actions: CHECKPOINT_KEY_ADMIN_ACTIONS,
            resources: ['*'],
          }),
        ],
      }),
    });
  }

  /** Lets `role` (the checkpointer's) sign and read the public key; refuses a second signer. */
  allowSigningBy(role: iam.IRole): void {
    if (this.signer) throw new Error(`${this.node.id}: only one role may sign checkpoints`);
    this.signer = role;
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheCheckpointerSigns',
        principals: [new iam.ArnPrincipal(role.roleArn)],
        actions: ['kms:Sign', 'kms:GetPublicKey'],
        resources: ['*'],
      }),
    );
  }
}
