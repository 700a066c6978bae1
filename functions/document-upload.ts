import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DocumentUploadedV1 } from '../events';
import { OperationBatch } from '../shared/batch/operation-batch';
import { functionServices } from '../shared/functions/services';
import { DocumentUploadOperation } from '../shared/operations/document-upload';

const services = functionServices('document-upload');
const batch = new OperationBatch('document-upload', services);
const operation = new DocumentUploadOperation(services, {
  s3: services.uploads.s3,
  uploadBucket: services.uploads.bucket,
});

const processor = new BatchProcessor(EventType.SQS);

/**
 * One queued upload: parsed against its schema and applied once per (source, id); a
 * message that can never be processed goes to the dead-letter queue with its reason.
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  try {
    const event = batch.parse(record, DocumentUploadedV1);
    await batch.applyOnce(record, event, (e) => operation.handle(e));
  } catch (error) {
    await batch.rejectOrRethrow(record, error);
  }
};

/** Document upload: stores the document in the vault and schedules its retention. */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  batch.invocation(event, context, () =>
    processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
      processInParallel: false, // in queue order: two events of one subject keep their order
    }),
  );
