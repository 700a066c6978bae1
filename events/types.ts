import { z } from 'zod';
import { CategoryId, RequestId, Rfc3339Date, Rfc3339Timestamp, SubjectId } from './common';
import { CloudEventEnvelope } from './envelope';

const DocumentId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,128}$/, 'documentId must be 1-128 characters of [A-Za-z0-9._-]');
const HoldId = z.string().min(1).max(128).describe('Identifier of the legal hold');

/** Data of `privacy.document.uploaded.v1`: a file put into the upload bucket under `<tenantid>/`. */
export const DocumentUploadedData = z.object({
  subjectId: SubjectId,
  documentId: DocumentId.describe('Unique within the tenant'),
  category: CategoryId,
  upload: z.object({
    bucket: z.string().min(3).max(63).describe("Must be the stack's upload bucket"),
    key: z
      .string()
      .min(1)
      .max(1024)
      .describe('Must start with <tenantid>/; no .. segment, no leading /'),
  }),
  documentDate: Rfc3339Date.optional().describe(
    "Anchor for categories counted from the document's date or fiscal year",
  ),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex characters')
    .optional()
    .describe('When present the pipeline verifies the content against it'),
});

/** Data of `privacy.account.closed.v1`. */
export const AccountClosedData = z.object({
  subjectId: SubjectId,
  closedAt: Rfc3339Timestamp.describe('Anchor for categories counted from end of relationship'),
  exportBeforeDeletion: z
    .boolean()
    .optional()
    .describe("When true the subject's data is exported before any deletion"),
});

/** Data of `privacy.erasure.requested.v1`. */
export const ErasureRequestedData = z.object({
  subjectId: SubjectId,
  requestId: RequestId,
  receivedAt: Rfc3339Timestamp.describe(
    'When the controller received the request; the one-month deadline counts from here',
  ),
  categories: z
    .array(CategoryId)
    .min(1)
    .optional()
    .describe("Absent means all of the subject's data"),
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
  reason: z.string().min(1).max(256).describe('Short text, no personal data'),
});

function eventOf<T extends string, D extends z.ZodTypeAny>(type: T, data: D) {
  return CloudEventEnvelope.extend({ type: z.literal(type), data });
}

/** `privacy.document.uploaded.v1` */
export const DocumentUploadedV1 = eventOf('privacy.document.uploaded.v1', DocumentUploadedData);
/** `privacy.account.closed.v1` */
export const AccountClosedV1 = eventOf('privacy.account.closed.v1', AccountClosedData);
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
  ErasureRequestedV1,
  AccessRequestedV1,
  LegalHoldPlacedV1,
  LegalHoldReleasedV1,
]);

export type DocumentUploadedV1 = z.infer<typeof DocumentUploadedV1>;
export type AccountClosedV1 = z.infer<typeof AccountClosedV1>;
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
