import type * as z from 'zod/mini';
import { PermanentError } from '../errors';

/** One schema issue, as zod reports it (only its path is used). */
interface SchemaIssue {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly code?: string;
}

/**
 * The dotted path of a schema issue, restricted to safe characters (array indexes included), or
 * `(root)`: what follows `invalid-field:` in a rejection reason. Never a value of the event.
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
 * Parses a message body against an event schema. Throws a {@link PermanentError} (the message can
 * never be processed: dead-letter queue at once) with the reason `invalid-json`, or
 * `invalid-field:<path>` naming the first field that does not match; `expected` names the schema in
 * the error's message, never a value of the event.
 */
export function parseEventBody<S extends z.ZodMiniType>(
  body: string,
  schema: S,
  expected: string,
): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new PermanentError('invalid-json', 'message body is not JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new PermanentError(
      `invalid-field:${issuePath(parsed.error.issues[0])}`,
      `event does not match ${expected}`,
    );
  return parsed.data;
}
