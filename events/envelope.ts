import * as z from 'zod/mini';
import { Rfc3339Timestamp, TenantId } from './common';

/** Maximum size of one message body the pipeline accepts (SQS's own limit is 1 MiB). */
export const MAX_EVENT_BYTES = 256 * 1024;

/**
 * The CloudEvents 1.0 envelope in structured JSON mode, with the `tenantid` extension.
 * Unknown extension attributes are allowed (CloudEvents permits them) and ignored.
 */
export const CloudEventEnvelope = z.looseObject({
  specversion: z.literal('1.0'),
  id: z
    .string()
    .check(
      z.regex(/^[\x20-\x7E]{1,128}$/, 'id must be 1-128 printable ASCII characters'),
      z.describe(
        'Unique per tenantid and source; with them, the idempotency key (reused with another payload: refused)',
      ),
    ),
  source: z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(512),
      z.regex(/^[^\s]+$/, 'source must be a URI-reference without spaces'),
      z.describe('URI-reference naming the producing service, e.g. /billing-service'),
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
