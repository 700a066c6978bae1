import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import { ErasureRequestedV1 } from '../events';
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
const operation = new ErasureRequestOperation(services, copies);
const batch = new OperationBatch('erasure-request', services);
const processor = new BatchProcessor(EventType.SQS);

/** One queued erasure request: applied once per (tenantid, source, id), or rejected with its reason. */
const recordHandler = (record: SQSRecord): Promise<void> =>
  batch.applyOnce(record, ErasureRequestedV1, (event) => operation.handle(event));

/** Erasure request: shreds and deletes what may go, and every copy; restricts what the law keeps. */
export const handler = batch.handler((event, context) =>
  processPartialResponse(event, inSubjectOrder(recordHandler), processor, {
    context,
    ...IN_SUBJECT_ORDER,
  }),
);
