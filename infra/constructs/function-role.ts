import { Aspects, IAspect, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct, IConstruct } from 'constructs';

/**
 * Action wildcards that CDK grant methods emit on one named resource (table and queue grants,
 * SSE-KMS grants on a key), with why each is acceptable. S3 access is granted action by action
 * (`infra/service-bindings.ts`), so no S3 wildcard is accepted. Any other wildcard action fails
 * synthesis.
 */
export const GRANT_ACTION_FAMILIES: Readonly<Record<string, string>> = {
  'kms:GenerateDataKey*':
    'CDK grants for SSE-KMS on one named key: S3/SQS/DynamoDB call GenerateDataKey on the caller behalf',
  'kms:ReEncrypt*':
    'CDK grants for SSE-KMS on one named key: ReEncryptFrom/To used by the services when a bucket key is rotated',
};

/** Properties of a {@link FunctionRole}. */
export interface FunctionRoleProps {
  /** What the role is for (IAM description). */
  readonly description: string;
  /**
   * Regions the role may call. Every other region is denied with an explicit `Deny` on
   * `aws:RequestedRegion`, so no data leaves the allowed regions; the functions call only regional services (S3, SQS, DynamoDB,
   * KMS, CloudWatch Logs, X-Ray).
   * @default the stack's region
   */
  readonly allowedRegions?: readonly string[];
}

/**
 * The execution role of one pipeline function: assumed by Lambda only, no AWS managed policy,
 * every permission in one customer-managed policy attached to it (CDK grants land there too),
 * and a second one with an explicit Deny of every region but the stack's. Wildcards that CDK grants emit on a
 * named resource are acknowledged one by one with their reason; anything else (an action `*`,
 * a resource `*` for an action that supports resource-level permissions) fails synthesis.
 */
export class FunctionRole extends iam.Role {
  /** The customer-managed policy holding every Allow statement of the role. */
  readonly policy: iam.ManagedPolicy;
  /** The customer-managed policy denying every region but the allowed ones. */
  readonly regionGuard: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: FunctionRoleProps) {
    super(scope, id, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    const regions = props.allowedRegions ?? [Stack.of(this).region];
    if (regions.length === 0 || regions.some((r) => Token.isUnresolved(r))) {
      throw new Error(`${id}: allowedRegions must name concrete regions`);
    }
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `${props.description}: its permissions`,
      roles: [this],
    });
    // A policy of its own, so that no Allow statement ever shares a document with the Deny.
    this.regionGuard = new iam.ManagedPolicy(this, 'RegionGuard', {
      description: `${props.description}: no call outside ${regions.join(', ')}`,
      roles: [this],
      statements: [
        new iam.PolicyStatement({
          sid: 'DenyOtherRegions',
          effect: iam.Effect.DENY,
          actions: ['*'],
          resources: ['*'],
          conditions: { StringNotEquals: { 'aws:RequestedRegion': [...regions] } },
        }),
      ],
    });
    Aspects.of(this).add(new AcknowledgeGrantWildcards(this));
  }

  /** Routes every statement (grants included) into the customer-managed policy. */
  override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}

/**
 * Actions that support no resource-level permission, so IAM only accepts them on `*`: X-Ray
 * (active tracing) and DynamoDB ListStreams (stream event source). Nothing else may use `*`.
 */
export const RESOURCE_STAR_ACTIONS: ReadonlySet<string> = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'dynamodb:ListStreams',
]);

/**
 * Once every grant is in, acknowledges on the role's policy exactly the AwsSolutions-IAM5
 * findings that CDK grants produce on named resources: the action families above, object keys
 * under a named bucket (`<Bucket.Arn>/*`), indexes of a named table (`<Table.Arn>/index/*`)
 * and `*` for the actions of {@link RESOURCE_STAR_ACTIONS} only.
 */
class AcknowledgeGrantWildcards implements IAspect {
  private done = false;
  constructor(private readonly role: FunctionRole) {}

  visit(node: IConstruct): void {
    if (node !== this.role || this.done) return;
    this.done = true;
    const policy = this.role.policy;
    const document = Stack.of(policy).resolve(policy.document.toJSON()) as {
      Statement?: Array<{ Effect: string; Action: string | string[]; Resource: unknown }>;
    };
    const acknowledged = new Map<string, string>();
    // `Resource::*` is one finding per policy: acknowledge it only if every statement on `*`
    // is made of actions that cannot be scoped.
    const starActions = new Set<string>();
    for (const statement of document.Statement ?? []) {
      if (statement.Effect !== 'Allow') continue;
      const actions = ([] as string[]).concat(statement.Action);
      for (const action of actions) {
        const reason = GRANT_ACTION_FAMILIES[action];
        if (reason) acknowledged.set(`Action::${action}`, reason);
      }
      for (const resource of ([] as unknown[]).concat(statement.Resource)) {
        const flat = flattenCfnReference(resource);
        if (flat === '*') {
          actions.forEach((a) => starActions.add(a));
        } else if (/^<[A-Za-z0-9]+\.Arn>\/\*$/.test(flat)) {
          acknowledged.set(
            `Resource::${flat}`,
            'Object-level access to the keys of one named bucket (CDK grant); keys are not known at deploy time',
          );
        } else if (/^<[A-Za-z0-9]+\.Arn>\/index\/\*$/.test(flat)) {
          acknowledged.set(
            `Resource::${flat}`,
            'Queries on the global secondary indexes of one named table (CDK grant)',
          );
        }
      }
    }
    if (starActions.size > 0 && [...starActions].every((a) => RESOURCE_STAR_ACTIONS.has(a))) {
      acknowledged.set(
        'Resource::*',
        `${[...starActions].sort().join(', ')} support no resource-level permissions (active tracing, stream discovery)`,
      );
    }
    for (const [finding, reason] of acknowledged) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
  }
}
