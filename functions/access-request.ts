import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { AccessRequestedV1 } from '../events';
import { SubjectRequestContinuedV1 } from '../events/internal';
import { continuingOn } from '../shared/batch/continuation-queue';
import { OperationBatch } from '../shared/batch/operation-batch';
import { inSubjectOrder, IN_SUBJECT_ORDER } from '../shared/batch/subject-order';
import { functionServices } from '../shared/functions/services';
import { AccessRequestOperation } from '../shared/operations/access-request';

const services = functionServices('access-request');
const operation = new AccessRequestOperation(services, {
  s3: services.exports.s3,
  exportBucket: services.exports.bucket,
  budget: services.continuations,
});
const batch = new OperationBatch(
  'access-request',
  services,
  undefined,
  continuingOn(services.continuations),
);
const processor = new BatchProcessor(EventType.SQS);

/** An access request, or the next page of one (sent by this function to its own queue). */
const AccessInput = z.discriminatedUnion('type', [AccessRequestedV1, SubjectRequestContinuedV1]);

/**
 * One queued access request or page: exported once per (tenantid, source, id), the next page sent
 * on, or rejected with its reason.
 */
const recordHandler = (record: SQSRecord): Promise<void> =>
  batch.applyOnce(record, AccessInput, (event) => operation.handle(event));

/** Access request: a machine-readable export of the subject's data in the export bucket. */
export const handler = batch.handler((event, context) =>
  processPartialResponse(event, inSubjectOrder(recordHandler), processor, {
    context,
    ...IN_SUBJECT_ORDER,
  }),
);
