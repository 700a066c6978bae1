import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { AccessRequestedV1 } from '../events';
import { OperationBatch } from '../shared/batch/operation-batch';
import { functionServices } from '../shared/functions/services';
import { AccessRequestOperation } from '../shared/operations/access-request';

const services = functionServices('access-request');
const batch = new OperationBatch('access-request', services);
const operation = new AccessRequestOperation(services, {
  s3: services.exports.s3,
  exportBucket: services.exports.bucket,
});

const processor = new BatchProcessor(EventType.SQS);

/**
 * One queued access request: parsed against its schema and applied once per (source, id); a
 * message that can never be processed goes to the dead-letter queue with its reason.
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  try {
    const event = batch.parse(record, AccessRequestedV1);
    await batch.applyOnce(record, event, (e) => operation.handle(e));
  } catch (error) {
    await batch.rejectOrRethrow(record, error);
  }
};

/** Access request: a machine-readable export of the subject's data in the export bucket. */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  batch.invocation(event, context, () =>
    processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
      processInParallel: false, // in queue order: two events of one subject keep their order
    }),
  );
