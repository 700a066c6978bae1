import * as z from 'zod/mini';
import { Rfc3339Timestamp, TenantId } from './common';

/** Maximum size of one message body the pipeline accepts (SQS's own limit is 1 MiB). */
export const MAX_EVENT_BYTES = 256 * 1024;

/**
 * An event `id`: 1-128 characters of a strict set (letters, digits and `. _ : @ / + = ~ -`), so
 * that what a producer chose can go into the log and a header as it is.
 */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9._:@/+=~-]{1,128}$/;
/** An event `source`: a URI-reference of 1-512 characters of `A-Za-z0-9 . _ ~ : / @ % + = -`. */
export const EVENT_SOURCE_PATTERN = /^[A-Za-z0-9._~:/@%+=-]{1,512}$/;

/** A string of `pattern`, refused with its own `reason` (first, so the rejection names it). */
const identifier = (pattern: RegExp, reason: string, message: string, description: string) =>
  z.string().check(
    z.refine((value) => pattern.test(value), { message, params: { reason } }),
    z.regex(pattern, message),
    z.describe(description),
  );

/**
 * The CloudEvents 1.0 envelope in structured JSON mode, with the `tenantid` extension.
 * Unknown extension attributes are allowed (CloudEvents permits them) and ignored.
 */
export const CloudEventEnvelope = z.looseObject({
  specversion: z.literal('1.0'),
  id: identifier(
    EVENT_ID_PATTERN,
    'invalid-id',
    'id must be 1-128 characters of [A-Za-z0-9._:@/+=~-]',
    'Unique per tenantid and source; with them, the idempotency key (reused with another payload: refused)',
  ),
  source: identifier(
    EVENT_SOURCE_PATTERN,
    'invalid-source',
    'source must be a URI-reference of 1-512 characters of [A-Za-z0-9._~:/@%+=-]',
    'URI-reference naming the producing service, e.g. /billing-service',
  ),
  type: z
    .string()
    .check(z.minLength(1), z.describe('Event type, e.g. privacy.document.uploaded.v1')),
  time: Rfc3339Timestamp.check(
    z.describe('RFC 3339 timestamp of the business fact, from 1970-01-01 to one day ahead'),
  ),
  tenantid: TenantId,
  datacontenttype: z.optional(z.literal('application/json')),
  data: z.record(z.string(), z.unknown()),
});

/** The envelope, before its `data` is checked against its type. */
export type CloudEventEnvelope = z.infer<typeof CloudEventEnvelope>;
