import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import { DocumentUploadedV1 } from '../events';
import { KeyedOperationBatch } from '../shared/batch/keyed-operation-batch';
import { inSubjectOrder, IN_SUBJECT_ORDER } from '../shared/batch/subject-order';
import { functionServices } from '../shared/functions/services';
import { DocumentUploadOperation } from '../shared/operations/document-upload';

const services = functionServices('document-upload');
const operation = new DocumentUploadOperation(services, {
  s3: services.uploads.s3,
  uploadBucket: services.uploads.bucket,
  // Read from MAX_DOCUMENT_BYTES when the services were built (its `read-delete` access).
  maxDocumentBytes: services.uploads.maxDocumentBytes,
});
const batch = new KeyedOperationBatch('document-upload', services);
const processor = new BatchProcessor(EventType.SQS);

/**
 * One queued upload: stored once per (tenantid, source, id) (its retention item's conditional
 * write is its idempotency), or rejected with its reason.
 */
const recordHandler = (record: SQSRecord): Promise<void> =>
  batch.applyKeyed(record, DocumentUploadedV1, (event, log) => operation.handle(event, log));

/** Document upload: stores the document in the vault and schedules its retention. */
export const handler = batch.handler((event, context) =>
  processPartialResponse(event, inSubjectOrder(recordHandler), processor, {
    context,
    ...IN_SUBJECT_ORDER,
  }),
);
