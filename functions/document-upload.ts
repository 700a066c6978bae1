import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import { DocumentUploadedV1 } from '../events';
import { IN_QUEUE_ORDER } from '../shared/batch/batch-invocation';
import { OperationBatch } from '../shared/batch/operation-batch';
import { functionServices } from '../shared/functions/services';
import { DocumentUploadOperation } from '../shared/operations/document-upload';

const services = functionServices('document-upload');
const operation = new DocumentUploadOperation(services, {
  s3: services.uploads.s3,
  uploadBucket: services.uploads.bucket,
});
const batch = new OperationBatch('document-upload', services);
const processor = new BatchProcessor(EventType.SQS);

/** One queued upload: stored once per (tenantid, source, id), or rejected with its reason. */
const recordHandler = (record: SQSRecord): Promise<void> =>
  batch.applyOnce(record, DocumentUploadedV1, (event) => operation.handle(event));

/** Document upload: stores the document in the vault and schedules its retention. */
export const handler = batch.handler((event, context) =>
  processPartialResponse(event, recordHandler, processor, { context, ...IN_QUEUE_ORDER }),
);
