/**
 * Resolves the CloudFormation intrinsic functions a CDK template uses (Ref, Fn::GetAtt,
 * Fn::Join, Fn::Select, Fn::Split, Fn::Sub, pseudo parameters) against locally created resources.
 */
export interface ResolvedResource {
  /** Value of `Ref`. */
  readonly ref: string;
  /** Values of `Fn::GetAtt`, by attribute name. */
  readonly attributes: Record<string, string>;
}

/** Raised when a value refers to something that does not exist locally (yet). */
export class UnresolvedReferenceError extends Error {
  constructor(
    readonly logicalId: string,
    detail: string,
  ) {
    super(`cannot resolve ${detail}`);
    this.name = 'UnresolvedReferenceError';
  }
}

/** The pseudo parameters of the local environment. */
export function pseudoParameters(
  region: string,
  accountId = '123456789012',
): Record<string, string> {
  return {
    'AWS::Region': region,
    'AWS::AccountId': accountId,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'PrivacyOps',
    'AWS::NoValue': '',
  };
}

/** Resolves `value` recursively; throws {@link UnresolvedReferenceError} for unknown references. */
export function resolveIntrinsics(
  value: unknown,
  resources: ReadonlyMap<string, ResolvedResource>,
  pseudo: Record<string, string>,
): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, resources, pseudo));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [fn] = keys;
    const arg = obj[fn];
    switch (fn) {
      case 'Ref': {
        const id = arg as string;
        if (id in pseudo) return pseudo[id];
        const r = resources.get(id);
        if (!r) throw new UnresolvedReferenceError(id, `Ref ${id}`);
        return r.ref;
      }
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        const r = resources.get(id);
        const v = r?.attributes[attr];
        if (v === undefined) throw new UnresolvedReferenceError(id, `Fn::GetAtt ${id}.${attr}`);
        return v;
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        return (resolveIntrinsics(parts, resources, pseudo) as unknown[]).map(String).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = resolveIntrinsics(list, resources, pseudo) as unknown[];
        return items[Number(resolveIntrinsics(index, resources, pseudo))];
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [string, unknown];
        return String(resolveIntrinsics(source, resources, pseudo)).split(sep);
      }
      case 'Fn::Sub': {
        const [template, vars] = Array.isArray(arg)
          ? (arg as [string, Record<string, unknown>])
          : [arg as string, {}];
        const resolvedVars = resolveIntrinsics(vars, resources, pseudo) as Record<string, unknown>;
        return template.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
          if (name in resolvedVars) return String(resolvedVars[name]);
          if (name in pseudo) return pseudo[name];
          const [id, attr] = name.split('.');
          return String(
            resolveIntrinsics(attr ? { 'Fn::GetAtt': [id, attr] } : { Ref: id }, resources, pseudo),
          );
        });
      }
      default:
        break;
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = resolveIntrinsics(obj[k], resources, pseudo);
  return out;
}
