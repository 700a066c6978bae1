import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { AccountClosedV1, AccountReopenedV1 } from '../events';
import { SubjectRequestContinuedV1 } from '../events/internal';
import { continuingOn } from '../shared/batch/continuation-queue';
import { OperationBatch } from '../shared/batch/operation-batch';
import { inSubjectOrder, IN_SUBJECT_ORDER } from '../shared/batch/subject-order';
import { functionServices } from '../shared/functions/services';
import { AccountClosureOperation } from '../shared/operations/account-closure';

const services = functionServices('account-closure');
const operation = new AccountClosureOperation(services, {
  s3: services.exports.s3,
  exportBucket: services.exports.bucket,
  budget: services.continuations,
});
const batch = new OperationBatch(
  'account-closure',
  services,
  undefined,
  continuingOn(services.continuations),
);
const processor = new BatchProcessor(EventType.SQS);
/** A closure, a reopening, or the next page of a closure's export (sent to its own queue). */
const RelationshipEvent = z.discriminatedUnion('type', [
  AccountClosedV1,
  AccountReopenedV1,
  SubjectRequestContinuedV1,
]);

/**
 * One queued closure, reopening or export page: applied once per (tenantid, source, id), the next
 * page sent on, or rejected with its reason.
 */
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
