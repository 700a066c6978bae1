import { EVENT_ID_PATTERN, EVENT_SOURCE_PATTERN, SubjectId, TenantId } from '../../events';
import type { LogEntry } from '../processing-log/writer';
import type { Pseudonymizer } from '../pseudonym';

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
 * An identifier equal to the subject id is dropped (a producer that put it in the wrong field), and
 * one that is not well-formed is dropped whole, never cut short.
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
    eventId: readable(event.id, EVENT_ID_PATTERN),
    eventSource: readable(event.source, EVENT_SOURCE_PATTERN),
    eventType: readable(event.type, /^[A-Za-z0-9._-]{1,128}$/),
  };
}

/**
 * The `rejected` processing-log record of a message that can never be processed: the reason, and
 * only what {@link rejectionIdentifiers} lets through, the subject as its pseudonym. The one way
 * the intake and the operations describe a rejection, so nothing a producer chose freely reaches
 * the log in clear.
 */
export async function rejectionRecord(
  raw: unknown,
  reason: string,
  pseudonyms: Pick<Pseudonymizer, 'subject'>,
  recordId?: string,
): Promise<LogEntry> {
  const ids = rejectionIdentifiers(raw);
  return {
    ...(recordId ? { recordId } : {}),
    tenant: ids.tenant,
    operation: 'rejected',
    outcome: 'rejected',
    subject: ids.subjectId === null ? null : await pseudonyms.subject(ids.tenant, ids.subjectId),
    eventId: ids.eventId,
    eventSource: ids.eventSource,
    eventType: ids.eventType,
    reason,
  };
}

/** The message body as JSON when it is JSON, else undefined: for the identifiers of a rejection. */
export function bodyAsJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
