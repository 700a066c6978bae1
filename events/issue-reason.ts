/** One schema issue, as zod reports it: its path, code and the parameters of a custom check. */
export interface SchemaIssue {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly code?: string;
  readonly params?: { readonly reason?: unknown };
}

/**
 * The dotted path of a schema issue, restricted to safe characters (array indexes included), or
 * `(root)`. Never a value of the event.
 */
export function issuePath(issue: SchemaIssue | undefined): string {
  const joined = (issue?.path ?? [])
    .map(String)
    .join('.')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 200);
  return joined || '(root)';
}

/**
 * The rejection reason of a schema issue: `<reason>:<path>` when the check names its own reason
 * (`implausible-date:data.closedAt`), `<reason>` alone for an envelope identifier
 * (`invalid-id`, `invalid-source`), else `invalid-field:<path>`.
 */
export function reasonOfIssue(issue: SchemaIssue | undefined): string {
  const path = issuePath(issue);
  const named = issue?.params?.reason;
  if (typeof named === 'string' && /^[a-z-]+$/.test(named))
    return named.startsWith('invalid-') ? named : `${named}:${path}`;
  return `invalid-field:${path}`;
}
