import { EVENT_SCHEMAS, isEventType, MAX_EVENT_BYTES, type PrivacyEvent } from '../../events';
import { issuePath, reasonOfIssue } from '../../events/issue-reason';
import { bodyAsJson } from '../batch/rejection-record';
import { PermanentError } from '../errors';
import type { ProducerRegistry } from './producer-registry';

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

/** What the intake checks of who sent a message: the producer registry. */
export interface IngressRules extends IntakeRules {
  /** Who may act for which tenant (sources, tenants, event types), by SQS sender id. */
  readonly producers: ProducerRegistry;
}

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
    return reject(bodyAsJson(body), 'oversize', `message body is larger than ${maxBytes} bytes`);
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
    const path = issuePath(issue);
    return reject(raw, reasonOfIssue(issue), `${path}: ${issue?.code ?? 'invalid'}`);
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

/**
 * Decides what the intake does with one ingress message from `senderId` (the SQS `SenderId`
 * system attribute: the sender's IAM identity, which it cannot forge). A sender no registration
 * names is refused before its body is read as an event (`producer-not-authorised:sender`); a
 * valid event whose source, tenant or type lies outside its sender's registration is refused
 * `producer-not-authorised:source|tenant|type`. Pure and total, like {@link decideIngressMessage}.
 */
export function decideIngressRecord(
  body: string,
  senderId: string | undefined,
  rules: IngressRules,
): IntakeDecision {
  const unread = rules.producers.producerOf(senderId) === undefined;
  if (unread) {
    const small = Buffer.byteLength(body, 'utf8') <= (rules.maxBytes ?? MAX_EVENT_BYTES);
    return reject(
      small ? bodyAsJson(body) : undefined,
      'producer-not-authorised:sender',
      'the sender is not a registered producer',
    );
  }
  const decision = decideIngressMessage(body, rules);
  if (!decision.ok) return decision;
  const refused = rules.producers.refusal(senderId, decision.event);
  if (refused === undefined) return decision;
  return reject(
    decision.event,
    `producer-not-authorised:${refused}`,
    `${refused} is outside the sender's registration`,
  );
}
