import {
  EVENT_SCHEMAS,
  isEventType,
  MAX_EVENT_BYTES,
  SubjectId,
  TenantId,
  type PrivacyEvent,
} from '../../events';
import { PermanentError } from '../errors';

/** Every reason the intake rejects a message with (the `rejection-reason` attribute). */
export const REJECTION_REASONS = [
  'oversize',
  'invalid-json',
  'unknown-type',
  'invalid-field:<path>',
  'wrong-bucket',
  'key-outside-tenant-prefix',
  'key-traversal',
] as const;

/** A message the intake accepts: the typed event, and the body to forward unchanged. */
export interface AcceptedMessage {
  readonly ok: true;
  readonly event: PrivacyEvent;
}

/** A message the intake rejects: the permanent error and whatever could be parsed of it. */
export interface RejectedMessage {
  readonly ok: false;
  readonly error: PermanentError;
  /** The parsed body when it was JSON, else undefined; for the identifiers of the log record. */
  readonly raw: unknown;
}

/** What the intake decides for one message body. */
export type IntakeDecision = AcceptedMessage | RejectedMessage;

/** What the intake checks beyond the schema. */
export interface IntakeRules {
  /** The stack's upload bucket: the only bucket a `document.uploaded` event may name. */
  readonly uploadBucket: string;
  /** Largest accepted body in bytes. @default MAX_EVENT_BYTES */
  readonly maxBytes?: number;
}

const reject = (raw: unknown, reason: string, message: string): RejectedMessage => ({
  ok: false,
  error: new PermanentError(reason, message),
  raw,
});

/** Dotted path of a schema issue, restricted to safe characters (array indexes included). */
function pathOf(path: ReadonlyArray<PropertyKey>): string {
  const joined = path
    .map(String)
    .join('.')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 200);
  return joined || '(root)';
}

/**
 * Why an `upload.key` is unacceptable for `tenant`, or undefined when it is fine: it must lie under
 * `<tenant>/` (which also refuses absolute keys and another tenant's files) and contain no `..`
 * segment (with `/` or `\` as separator).
 */
export function uploadKeyProblem(
  tenant: string,
  key: string,
): 'key-traversal' | 'key-outside-tenant-prefix' | undefined {
  if (key.split(/[/\\]/).some((segment) => segment === '..')) return 'key-traversal';
  if (!key.startsWith(`${tenant}/`) || key.length === tenant.length + 1)
    return 'key-outside-tenant-prefix';
  return undefined;
}

/**
 * Decides what the intake does with one message body. Pure and total: never throws, whatever
 * the input; every refusal is a {@link PermanentError} with a machine-readable reason and a
 * message that names fields, never their values.
 */
export function decideIngressMessage(body: string, rules: IntakeRules): IntakeDecision {
  const maxBytes = rules.maxBytes ?? MAX_EVENT_BYTES;
  if (body.length > maxBytes || Buffer.byteLength(body, 'utf8') > maxBytes) {
    // Parsed only for the identifiers of the log record (an SQS body is at most 1 MiB).
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch {
      raw = undefined;
    }
    return reject(raw, 'oversize', `message body is larger than ${maxBytes} bytes`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return reject(undefined, 'invalid-json', 'message body is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return reject(raw, 'invalid-field:(root)', 'message body is not a JSON object');
  const type = (raw as { type?: unknown }).type;
  if (typeof type === 'string' && !isEventType(type))
    return reject(raw, 'unknown-type', 'type is not a type (or version) of the wire contract');
  if (!isEventType(type))
    return reject(raw, 'invalid-field:type', 'type is missing or not a string');
  const parsed = EVENT_SCHEMAS[type].safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = pathOf(issue?.path ?? []);
    return reject(raw, `invalid-field:${path}`, `${path}: ${issue?.code ?? 'invalid'}`);
  }
  const event = parsed.data as PrivacyEvent;
  if (event.type === 'privacy.document.uploaded.v1') {
    if (event.data.upload.bucket !== rules.uploadBucket)
      return reject(raw, 'wrong-bucket', "upload.bucket is not the stack's upload bucket");
    const problem = uploadKeyProblem(event.tenantid, event.data.upload.key);
    if (problem)
      return reject(
        raw,
        problem,
        problem === 'key-traversal'
          ? 'upload.key contains a .. segment'
          : "upload.key is not under the tenant's prefix <tenantid>/",
      );
  }
  return { ok: true, event };
}

/** Identifiers of a rejected message that are safe to log, each null when unreadable. */
export interface RejectionIdentifiers {
  readonly tenant: string;
  /** The raw subject id, only when both it and the tenant are valid: to pseudonymize, never to log. */
  readonly subjectId: string | null;
  readonly eventId: string | null;
  readonly eventSource: string | null;
  readonly eventType: string | null;
}

/**
 * What of a rejected message may appear in the processing log: tenant ('unknown' when invalid),
 * envelope identifiers when they are well-formed, and the subject id only for pseudonymizing.
 * An identifier equal to the subject id is dropped (a producer that put it in the wrong field).
 */
export function rejectionIdentifiers(raw: unknown): RejectionIdentifiers {
  const event = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const tenant = TenantId.safeParse(event.tenantid).success
    ? (event.tenantid as string)
    : 'unknown';
  const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<
    string,
    unknown
  >;
  const subjectId =
    tenant !== 'unknown' && SubjectId.safeParse(data.subjectId).success
      ? (data.subjectId as string)
      : null;
  const readable = (value: unknown, pattern: RegExp): string | null =>
    typeof value === 'string' && pattern.test(value) && value !== data.subjectId ? value : null;
  return {
    tenant,
    subjectId,
    eventId: readable(event.id, /^[\x20-\x7E]{1,128}$/),
    eventSource: readable(event.source, /^[\x21-\x7E]{1,512}$/),
    eventType: readable(event.type, /^[A-Za-z0-9._-]{1,128}$/),
  };
}
