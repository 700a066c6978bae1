import * as z from 'zod/mini';
import { CategoryId, RequestId, Rfc3339Date, Rfc3339Timestamp, SubjectId } from './common';
import { CloudEventEnvelope } from './envelope';

const DocumentId = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9._-]{1,128}$/, 'documentId must be 1-128 characters of [A-Za-z0-9._-]'),
  );
const HoldId = z
  .string()
  .check(z.minLength(1), z.maxLength(128), z.describe('Identifier of the legal hold'));

/** Data of `privacy.document.uploaded.v1`: a file put into the upload bucket under `<tenantid>/`. */
export const DocumentUploadedData = z.object({
  subjectId: SubjectId,
  documentId: DocumentId.check(z.describe('Unique within the tenant')),
  category: CategoryId,
  upload: z.object({
    bucket: z
      .string()
      .check(z.minLength(3), z.maxLength(63), z.describe("Must be the stack's upload bucket")),
    key: z
      .string()
      .check(
        z.minLength(1),
        z.maxLength(1024),
        z.describe('Must start with <tenantid>/; no .. segment, no leading /'),
      ),
  }),
  documentDate: z
    .optional(Rfc3339Date)
    .check(z.describe("Anchor for categories counted from the document's date or fiscal year")),
  sha256: z
    .optional(
      z.string().check(z.regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex characters')),
    )
    .check(z.describe('When present the pipeline verifies the content against it')),
});

/** Data of `privacy.account.closed.v1`. */
export const AccountClosedData = z.object({
  subjectId: SubjectId,
  closedAt: Rfc3339Timestamp.check(
    z.describe('Anchor for categories counted from end of relationship'),
  ),
  exportBeforeDeletion: z
    .optional(z.boolean())
    .check(z.describe("When true the subject's data is exported before any deletion")),
});

/**
 * Data of `privacy.account.reopened.v1` (added to v1, additive): the subject's relationship starts
 * again after a closure; clocks counted from the end of the relationship follow the latest one.
 */
export const AccountReopenedData = z.object({
  subjectId: SubjectId,
  reopenedAt: Rfc3339Timestamp.check(
    z.describe('When the relationship started again; a later closure ends it again'),
  ),
});

/** Data of `privacy.erasure.requested.v1`. */
export const ErasureRequestedData = z.object({
  subjectId: SubjectId,
  requestId: RequestId,
  receivedAt: Rfc3339Timestamp.check(
    z.describe('When the controller received the request; the one-month deadline counts from here'),
  ),
  categories: z
    .optional(z.array(CategoryId).check(z.minLength(1)))
    .check(z.describe("Absent means all of the subject's data")),
});

/** Data of `privacy.access.requested.v1` (GDPR Art. 15 and 20). */
export const AccessRequestedData = z.object({
  subjectId: SubjectId,
  requestId: RequestId,
  receivedAt: Rfc3339Timestamp,
});

/** Data of `privacy.legal-hold.placed.v1` and `privacy.legal-hold.released.v1`. */
export const LegalHoldData = z.object({
  subjectId: SubjectId,
  holdId: HoldId,
  reason: z
    .string()
    .check(z.minLength(1), z.maxLength(256), z.describe('Short text, no personal data')),
});

function eventOf<T extends string, D extends z.ZodMiniType>(type: T, data: D) {
  return z.extend(CloudEventEnvelope, { type: z.literal(type), data });
}

/** `privacy.document.uploaded.v1` */
export const DocumentUploadedV1 = eventOf('privacy.document.uploaded.v1', DocumentUploadedData);
/** `privacy.account.closed.v1` */
export const AccountClosedV1 = eventOf('privacy.account.closed.v1', AccountClosedData);
/** `privacy.account.reopened.v1` */
export const AccountReopenedV1 = eventOf('privacy.account.reopened.v1', AccountReopenedData);
/** `privacy.erasure.requested.v1` */
export const ErasureRequestedV1 = eventOf('privacy.erasure.requested.v1', ErasureRequestedData);
/** `privacy.access.requested.v1` */
export const AccessRequestedV1 = eventOf('privacy.access.requested.v1', AccessRequestedData);
/** `privacy.legal-hold.placed.v1` */
export const LegalHoldPlacedV1 = eventOf('privacy.legal-hold.placed.v1', LegalHoldData);
/** `privacy.legal-hold.released.v1` */
export const LegalHoldReleasedV1 = eventOf('privacy.legal-hold.released.v1', LegalHoldData);

/** Every event type of the wire contract v1, by its `type`. */
export const EVENT_SCHEMAS = {
  'privacy.document.uploaded.v1': DocumentUploadedV1,
  'privacy.account.closed.v1': AccountClosedV1,
  'privacy.account.reopened.v1': AccountReopenedV1,
  'privacy.erasure.requested.v1': ErasureRequestedV1,
  'privacy.access.requested.v1': AccessRequestedV1,
  'privacy.legal-hold.placed.v1': LegalHoldPlacedV1,
  'privacy.legal-hold.released.v1': LegalHoldReleasedV1,
} as const;

/** A `type` of the wire contract. */
export type EventType = keyof typeof EVENT_SCHEMAS;
/** The event types, in contract order. */
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as EventType[];

/** Any valid event of the contract, discriminated by `type`. */
export const PrivacyEvent = z.discriminatedUnion('type', [
  DocumentUploadedV1,
  AccountClosedV1,
  AccountReopenedV1,
  ErasureRequestedV1,
  AccessRequestedV1,
  LegalHoldPlacedV1,
  LegalHoldReleasedV1,
]);

export type DocumentUploadedV1 = z.infer<typeof DocumentUploadedV1>;
export type AccountClosedV1 = z.infer<typeof AccountClosedV1>;
export type AccountReopenedV1 = z.infer<typeof AccountReopenedV1>;
export type ErasureRequestedV1 = z.infer<typeof ErasureRequestedV1>;
export type AccessRequestedV1 = z.infer<typeof AccessRequestedV1>;
export type LegalHoldPlacedV1 = z.infer<typeof LegalHoldPlacedV1>;
export type LegalHoldReleasedV1 = z.infer<typeof LegalHoldReleasedV1>;
/** Any valid event of the contract. */
export type PrivacyEvent = z.infer<typeof PrivacyEvent>;

/** Whether `type` is a type of the contract. */
export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(EVENT_SCHEMAS, type);
}
