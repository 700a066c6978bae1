import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { ErasureRequestedV1 } from '../events';
import { SubjectRequestContinuedV1 } from '../events/internal';
import { continuingOn } from '../shared/batch/continuation-queue';
import { OperationBatch } from '../shared/batch/operation-batch';
import { inSubjectOrder, IN_SUBJECT_ORDER } from '../shared/batch/subject-order';
import { functionServices } from '../shared/functions/services';
import { ErasureRequestOperation } from '../shared/operations/erasure-request';
import { SubjectCopies } from '../shared/operations/subject-copies';

const services = functionServices('erasure-request');
const copies = new SubjectCopies({
  s3: services.exports.s3,
  exportBucket: services.exports.bucket,
  uploadBucket: services.uploads.bucket,
});
const operation = new ErasureRequestOperation(services, copies, services.continuations);
const batch = new OperationBatch(
  'erasure-request',
  services,
  undefined,
  continuingOn(services.continuations),
);
const processor = new BatchProcessor(EventType.SQS);

/** An erasure request, or the next page of one (sent by this function to its own queue). */
const ErasureInput = z.discriminatedUnion('type', [ErasureRequestedV1, SubjectRequestContinuedV1]);

/**
 * One queued erasure request or page: applied once per (tenantid, source, id), the next page sent
 * on, or rejected with its reason.
 */
const recordHandler = (record: SQSRecord): Promise<void> =>
  batch.applyOnce(record, ErasureInput, (event) => operation.handle(event));

/** Erasure request: shreds and deletes what may go, and every copy; restricts what the law keeps. */
export const handler = batch.handler((event, context) =>
  processPartialResponse(event, inSubjectOrder(recordHandler), processor, {
    context,
    ...IN_SUBJECT_ORDER,
  }),
);
