import { createHash } from 'node:crypto';

/** The envelope fields an operation's event has (what the application log may show of it). */
export interface OperationEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly tenantid: string;
}

/**
 * The idempotency key of an event, as the wire contract promises: (`tenantid`, `source`, `id`).
 * Two controllers whose producers share a source name and reuse an id are two events. Every path
 * that deduplicates events uses this key (the operations' idempotency step, and any conditional
 * write keyed on an event), so it changes in one place.
 */
export const EVENT_KEY_JMESPATH = '[tenantid, source, id]';

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
export const EVENT_PAYLOAD_JMESPATH = '[type, time, data]';

/** Reason of the refusal of an id reused with another payload. */
export const ID_REUSED_REASON = 'id-reused-with-different-payload';

/** The event key as one string (SHA-256 of the key fields), for a conditional write keyed on it. */
export function eventKeyOf(event: Pick<OperationEvent, 'tenantid' | 'source' | 'id'>): string {
  return createHash('sha256')
    .update(JSON.stringify([event.tenantid, event.source, event.id]))
    .digest('hex');
}
