import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { LegalHoldPlacedV1, LegalHoldReleasedV1 } from '../events';
import { OperationBatch } from '../shared/batch/operation-batch';
import { functionServices } from '../shared/functions/services';
import { LegalHoldOperation } from '../shared/operations/legal-hold';

const services = functionServices('legal-hold');
const batch = new OperationBatch('legal-hold', services);
const operation = new LegalHoldOperation(services);

const processor = new BatchProcessor(EventType.SQS);
const LegalHoldEvent = z.discriminatedUnion('type', [LegalHoldPlacedV1, LegalHoldReleasedV1]);

/**
 * One queued hold placed or released: parsed against its schema and applied once per (source, id);
 * a message that can never be processed goes to the dead-letter queue with its reason.
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  try {
    const event = batch.parse(record, LegalHoldEvent);
    await batch.applyOnce(record, event, (e) => operation.handle(e));
  } catch (error) {
    await batch.rejectOrRethrow(record, error);
  }
};

/** Legal hold placed / released: suspends and restores every expiry of the subject. */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  batch.invocation(event, context, () =>
    processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
      processInParallel: false, // in queue order: a hold placed then released for one subject
    }),
  );
