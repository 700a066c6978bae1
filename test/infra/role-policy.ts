/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation is untyped JSON */
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { ResourcePart } from './iam-actions';

/** The resources of a synthesized template, by logical id. */
export type TemplateResources = Record<
  string,
  { Type: string; Properties?: Record<string, any>; Metadata?: Record<string, unknown> }
>;

interface Statement {
  readonly actions: RegExp[];
  readonly resources: RegExp[];
  /** The logical ids its resources point at. */
  readonly resourceIds: string[];
}

const pattern = (glob: string, flags = '') =>
  new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, flags);

/** The logical id a `Ref` or `Fn::GetAtt` points at, else undefined. */
export function referencedId(value: unknown): string | undefined {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return v?.Ref ?? v?.['Fn::GetAtt']?.[0];
}

/** A resource part as policies name it: `<Id.Arn>`, `<Id.Arn>/<object key>`, `<Id.Arn>/index/<name>`. */
export function arnOf(logicalId: string, part: ResourcePart): string {
  const arn = `<${logicalId}.Arn>`;
  if (part === 'object') return `${arn}/some/object-key`;
  if (part === 'index') return `${arn}/index/some-index`;
  return arn;
}

/** The KMS key (logical id) encrypting a bucket, queue or table at rest, if customer-managed. */
export function encryptionKeyOf(
  resources: TemplateResources,
  logicalId: string,
): string | undefined {
  const p = resources[logicalId]?.Properties ?? {};
  const bucketKey =
    p.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault
      ?.KMSMasterKeyID;
  return referencedId(bucketKey ?? p.KmsMasterKeyId ?? p.SSESpecification?.KMSMasterKeyId);
}

/**
 * The Allow statements of the customer-managed policies attached to the role of a function,
 * with wildcards of actions (case-insensitive) and resources honoured. Conditions are kept out:
 * a conditional allow counts (e.g. the tenant encryption context on the documents key).
 */
export class RolePermissions {
  private readonly statements: Statement[];

  constructor(resources: TemplateResources, functionLogicalId: string) {
    const role = referencedId(resources[functionLogicalId].Properties!.Role);
    if (!role) throw new Error(`${functionLogicalId} has no role reference`);
    this.statements = Object.values(resources)
      .filter(
        (r) =>
          (r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy') &&
          (r.Properties!.Roles ?? []).some((ref: unknown) => referencedId(ref) === role),
      )
      .flatMap((r) => [].concat(r.Properties!.PolicyDocument.Statement ?? []))
      .filter((s: any) => s.Effect === 'Allow')
      .map((s: any) => {
        const flat = ([] as unknown[]).concat(s.Resource).map((r) => flattenCfnReference(r));
        return {
          actions: ([] as string[]).concat(s.Action).map((a) => pattern(a, 'i')),
          resources: flat.map((r) => pattern(r)),
          resourceIds: flat.flatMap((r) =>
            [...r.matchAll(/<([A-Za-z0-9]+)\.[A-Za-z]+>/g)].map((m) => m[1]),
          ),
        };
      });
  }

  /** Every resource (logical id) some statement allows something on. */
  resourceIds(): Set<string> {
    return new Set(this.statements.flatMap((s) => s.resourceIds));
  }

  /** Whether some statement allows `action` on `resource` (as {@link arnOf} names it). */
  allows(action: string, resource: string): boolean {
    return this.statements.some(
      (s) => s.actions.some((a) => a.test(action)) && s.resources.some((r) => r.test(resource)),
    );
  }
}
