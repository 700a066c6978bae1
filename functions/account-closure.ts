import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { AccountClosedV1 } from '../events';
import { OperationBatch } from '../shared/batch/operation-batch';
import { functionServices } from '../shared/functions/services';
import { AccountClosureOperation } from '../shared/operations/account-closure';

const services = functionServices('account-closure');
const batch = new OperationBatch('account-closure', services);
const operation = new AccountClosureOperation(services, {
  s3: services.exports.s3,
  exportBucket: services.exports.bucket,
});

const processor = new BatchProcessor(EventType.SQS);

/**
 * One queued account closure: parsed against its schema and applied once per (source, id); a
 * message that can never be processed goes to the dead-letter queue with its reason.
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  try {
    const event = batch.parse(record, AccountClosedV1);
    await batch.applyOnce(record, event, (e) => operation.handle(e));
  } catch (error) {
    await batch.rejectOrRethrow(record, error);
  }
};

/** Account closure: exports first when asked, then starts the clocks that waited for closure. */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  batch.invocation(event, context, () =>
    processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
      processInParallel: false, // in queue order: two events of one subject keep their order
    }),
  );
