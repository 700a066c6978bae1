import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { AccountClosedV1, AccountReopenedV1 } from '../events';
import { OperationBatch } from '../shared/batch/operation-batch';
import { inSubjectOrder, IN_SUBJECT_ORDER } from '../shared/batch/subject-order';
import { functionServices } from '../shared/functions/services';
import { AccountClosureOperation } from '../shared/operations/account-closure';

const services = functionServices('account-closure');
const operation = new AccountClosureOperation(services, {
  s3: services.exports.s3,
  exportBucket: services.exports.bucket,
});
const batch = new OperationBatch('account-closure', services);
const processor = new BatchProcessor(EventType.SQS);
const RelationshipEvent = z.discriminatedUnion('type', [AccountClosedV1, AccountReopenedV1]);

/** One queued closure or reopening: applied once per (tenantid, source, id), or rejected with its reason. */
const recordHandler = (record: SQSRecord): Promise<void> =>
  batch.applyOnce(record, RelationshipEvent, (event) => operation.handle(event));

/**
 * Account closure: exports first when asked, then starts the clocks that waited for closure;
 * reopening: later uploads wait for the next closure.
 */
export const handler = batch.handler((event, context) =>
  processPartialResponse(event, inSubjectOrder(recordHandler), processor, {
    context,
    ...IN_SUBJECT_ORDER,
  }),
);
