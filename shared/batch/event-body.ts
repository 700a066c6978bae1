import type * as z from 'zod/mini';
import { reasonOfIssue } from '../../events/issue-reason';
import { PermanentError } from '../errors';

/**
 * Parses a message body against an event schema. Throws a {@link PermanentError} (the message can
 * never be processed: dead-letter queue at once) with the reason `invalid-json`, or the reason of
 * the first issue (`reasonOfIssue`: `invalid-field:<path>`, `implausible-date:<path>`…);
 * `expected` names the schema in the error's message, never a value of the event.
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
      reasonOfIssue(parsed.error.issues[0]),
      `event does not match ${expected}`,
    );
  return parsed.data;
}
