import { createHash } from 'node:crypto';

/** The envelope fields an operation's event has (what the application log may show of it). */
export interface OperationEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly tenantid: string;
}

/**
 * The fields of an event's idempotency key, as the wire contract promises: (`tenantid`, `source`,
 * `id`). Two controllers whose producers share a source name and reuse an id are two events. Every
 * path that deduplicates events uses this key (the operations' idempotency step through
 * {@link EVENT_KEY_JMESPATH}, a conditional write keyed on an event through {@link eventKeyOf}),
 * so it changes in one place.
 */
export const EVENT_KEY_FIELDS = ['tenantid', 'source', 'id'] as const;

/** The event key as the JMESPath the Powertools idempotency step reads. */
export const EVENT_KEY_JMESPATH = `[${EVENT_KEY_FIELDS.join(', ')}]`;

/**
 * The idempotency key prefix of every operation: one namespace for all of them, so an id reused for
 * an event of another type (which another function applies) is caught as a reuse too.
 */
export const EVENT_KEY_PREFIX = 'privacy-event';

/**
 * What must be equal for a second delivery under the same key to be a duplicate: everything the
 * event says besides its key (`type`, `time`, `data`). The same key with another payload is not a
 * duplicate: it is refused (`id-reused-with-different-payload`), never dropped.
 */
export const EVENT_PAYLOAD_FIELDS = ['type', 'time', 'data'] as const;

/** The payload fields as the JMESPath the Powertools idempotency step validates. */
export const EVENT_PAYLOAD_JMESPATH = `[${EVENT_PAYLOAD_FIELDS.join(', ')}]`;

/** Reason of the refusal of an id reused with another payload. */
export const ID_REUSED_REASON = 'id-reused-with-different-payload';

const digest = (values: unknown[]) =>
  createHash('sha256').update(JSON.stringify(values)).digest('base64url');

/** The event key as one string (SHA-256 of the key fields, base64url: short, for an item under 1 KB), for a conditional write keyed on it. */
export function eventKeyOf(event: Pick<OperationEvent, (typeof EVENT_KEY_FIELDS)[number]>): string {
  return digest(EVENT_KEY_FIELDS.map((f) => event[f]));
}

/**
 * A digest of what the event says besides its key (SHA-256 of the payload fields): a duplicate has
 * the same, an id reused with another payload does not.
 */
export function payloadHashOf(
  event: Record<(typeof EVENT_PAYLOAD_FIELDS)[number], unknown>,
): string {
  return digest(EVENT_PAYLOAD_FIELDS.map((f) => event[f]));
}
