import * as z from 'zod/mini';
import { CategoryId } from './common';
import { CloudEventEnvelope } from './envelope';
import { AccessRequestedV1, AccountClosedV1, ErasureRequestedV1 } from './types';

/**
 * Internal events: sent by the pipeline to its own queues, never by a producer. They are not
 * types of the wire contract (`EVENT_SCHEMAS`), so the intake refuses one as `unknown-type`, and
 * the producer helper cannot build one.
 */

/** Type of the message that continues a subject's request on the next invocation. */
export const SUBJECT_REQUEST_CONTINUED = 'privacy.internal.subject-request.continued.v1';

/** How far an erasure got: where the next page starts, and what the pages before it did. */
export const ErasureProgress = z.strictObject({
  /** Sort key of the last document item the previous pages reached (the next page starts after it). */
  after: z.optional(z.string().check(z.regex(/^DOC#[A-Za-z0-9._=-]{1,256}$/))),
  /** The erasure tombstone's time, fixed by the first page. */
  tombstoneTime: z.iso.datetime({ offset: true }),
  /** Whether the subject was held when the request arrived (what may go is deferred). */
  held: z.boolean(),
  /** Key classes whose subject keys the erasure shredded (and logged). */
  shredded: z.array(CategoryId),
  /**
   * Key classes the pages before found holding a document sent after the erasure: not shredded.
   * (Absent in the progress of an erasure whose first page shredded every class of its scope.)
   */
  spared: z.optional(z.array(CategoryId)),
  erased: z.int().check(z.nonnegative()),
  restricted: z.int().check(z.nonnegative()),
  deferred: z.int().check(z.nonnegative()),
});
export type ErasureProgress = z.infer<typeof ErasureProgress>;

/** How far an export got: where the next page starts, and the manifest parts written. */
export const ExportProgress = z.strictObject({
  after: z.optional(z.string().check(z.regex(/^DOC#[A-Za-z0-9._=-]{1,256}$/))),
  /** Manifest parts written by the pages before (one per page). */
  parts: z.int().check(z.positive()),
  documents: z.int().check(z.nonnegative()),
});
export type ExportProgress = z.infer<typeof ExportProgress>;

/**
 * `privacy.internal.subject-request.continued.v1`: the next page of a request too large for one
 * invocation. Carries the request event as it came (nothing the queue did not already carry), the
 * page number and the progress. Its `id` is derived from the request's (`source`, `id`) and the
 * page, so a page sent twice is one event, applied once.
 */
export const SubjectRequestContinuedV1 = z.extend(CloudEventEnvelope, {
  type: z.literal(SUBJECT_REQUEST_CONTINUED),
  data: z.discriminatedUnion('operation', [
    z.strictObject({
      operation: z.literal('erasure'),
      page: z.int().check(z.minimum(2)),
      request: ErasureRequestedV1,
      progress: ErasureProgress,
    }),
    z.strictObject({
      operation: z.literal('access'),
      page: z.int().check(z.minimum(2)),
      request: AccessRequestedV1,
      progress: ExportProgress,
    }),
    z.strictObject({
      operation: z.literal('closure'),
      page: z.int().check(z.minimum(2)),
      request: AccountClosedV1,
      progress: ExportProgress,
    }),
  ]),
});
export type SubjectRequestContinuedV1 = z.infer<typeof SubjectRequestContinuedV1>;
