import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ErasureRequestedV1 } from '../events';
import { OperationBatch } from '../shared/batch/operation-batch';
import { functionServices } from '../shared/functions/services';
import { ErasureRequestOperation } from '../shared/operations/erasure-request';

const services = functionServices('erasure-request');
const batch = new OperationBatch('erasure-request', services);
const operation = new ErasureRequestOperation(services);

const processor = new BatchProcessor(EventType.SQS);

/**
 * One queued erasure request: parsed against its schema and applied once per (source, id); a
 * message that can never be processed goes to the dead-letter queue with its reason.
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  try {
    const event = batch.parse(record, ErasureRequestedV1);
    await batch.applyOnce(record, event, (e) => operation.handle(e));
  } catch (error) {
    await batch.rejectOrRethrow(record, error);
  }
};

/** Erasure request: shreds and deletes what may go, restricts what the law keeps. */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  batch.invocation(event, context, () =>
    processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
      processInParallel: false, // in queue order: two events of one subject keep their order
    }),
  );
