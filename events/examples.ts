import type { EventType, PrivacyEvent } from './types';

/** The event type of each `type`. */
export type EventOfType = { [T in EventType]: Extract<PrivacyEvent, { type: T }> };

/** The upload bucket name used in the examples; replace with the stack's `UploadBucketName`. */
export const EXAMPLE_UPLOAD_BUCKET = 'example-upload-bucket';

/**
 * One valid event per type with only the required fields (and the docs/events.md example for
 * `document.uploaded`): the compatibility baseline of the wire contract v1. A schema change that
 * refuses one of these is a breaking change and needs a new version.
 */
export function exampleEvents(uploadBucket: string = EXAMPLE_UPLOAD_BUCKET): EventOfType {
  const envelope = {
    specversion: '1.0' as const,
    source: '/expense-service',
    time: '2026-03-14T09:12:00Z',
    tenantid: 'acme-sas',
  };
  return {
    'privacy.document.uploaded.v1': {
      ...envelope,
      id: '7f1c2e0a-4c5e-4a51-9d1e-0c9a3b1e2f10',
      type: 'privacy.document.uploaded.v1',
      datacontenttype: 'application/json',
      data: {
        subjectId: 'emp-00042',
        documentId: 'receipt-2026-03-14-001',
        category: 'accounting-document',
        upload: { bucket: uploadBucket, key: 'acme-sas/incoming/receipt-2026-03-14-001.pdf' },
        documentDate: '2026-03-13',
      },
    },
    'privacy.account.closed.v1': {
      ...envelope,
      id: 'closure-0001',
      type: 'privacy.account.closed.v1',
      data: { subjectId: 'emp-00042', closedAt: '2026-03-31T18:00:00Z' },
    },
    'privacy.account.reopened.v1': {
      ...envelope,
      id: 'reopening-0001',
      type: 'privacy.account.reopened.v1',
      data: { subjectId: 'emp-00042', reopenedAt: '2026-09-01T08:00:00Z' },
    },
    'privacy.erasure.requested.v1': {
      ...envelope,
      id: 'erasure-0001',
      type: 'privacy.erasure.requested.v1',
      data: { subjectId: 'emp-00042', requestId: 'req-1', receivedAt: '2026-04-01T08:00:00+02:00' },
    },
    'privacy.access.requested.v1': {
      ...envelope,
      id: 'access-0001',
      type: 'privacy.access.requested.v1',
      data: { subjectId: 'emp-00042', requestId: 'req-2', receivedAt: '2026-04-01T08:00:00Z' },
    },
    'privacy.legal-hold.placed.v1': {
      ...envelope,
      id: 'hold-0001',
      type: 'privacy.legal-hold.placed.v1',
      data: { subjectId: 'emp-00042', holdId: 'hold-1', reason: 'litigation' },
    },
    'privacy.legal-hold.released.v1': {
      ...envelope,
      id: 'hold-0002',
      type: 'privacy.legal-hold.released.v1',
      data: { subjectId: 'emp-00042', holdId: 'hold-1', reason: 'litigation closed' },
    },
  };
}

/** The fields docs/events.md declares required, per type (`data.` fields and envelope attributes). */
export const REQUIRED_FIELDS: Record<EventType, readonly string[]> = {
  'privacy.document.uploaded.v1': [
    'data.subjectId',
    'data.documentId',
    'data.category',
    'data.upload.bucket',
    'data.upload.key',
  ],
  'privacy.account.closed.v1': ['data.subjectId', 'data.closedAt'],
  'privacy.account.reopened.v1': ['data.subjectId', 'data.reopenedAt'],
  'privacy.erasure.requested.v1': ['data.subjectId', 'data.requestId', 'data.receivedAt'],
  'privacy.access.requested.v1': ['data.subjectId', 'data.requestId', 'data.receivedAt'],
  'privacy.legal-hold.placed.v1': ['data.subjectId', 'data.holdId', 'data.reason'],
  'privacy.legal-hold.released.v1': ['data.subjectId', 'data.holdId', 'data.reason'],
};

/** The envelope attributes every event must carry. */
export const REQUIRED_ENVELOPE_FIELDS = [
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'tenantid',
  'data',
] as const;
