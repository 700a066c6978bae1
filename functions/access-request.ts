import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import { AccessRequestedV1 } from '../events';
import { OperationBatch } from '../shared/batch/operation-batch';
import { inSubjectOrder, IN_SUBJECT_ORDER } from '../shared/batch/subject-order';
import { functionServices } from '../shared/functions/services';
import { AccessRequestOperation } from '../shared/operations/access-request';

const services = functionServices('access-request');
const operation = new AccessRequestOperation(services, {
  s3: services.exports.s3,
  exportBucket: services.exports.bucket,
});
const batch = new OperationBatch('access-request', services);
const processor = new BatchProcessor(EventType.SQS);

/** One queued access request: exported once per (tenantid, source, id), or rejected with its reason. */
const recordHandler = (record: SQSRecord): Promise<void> =>
  batch.applyOnce(record, AccessRequestedV1, (event) => operation.handle(event));

/** Access request: a machine-readable export of the subject's data in the export bucket. */
export const handler = batch.handler((event, context) =>
  processPartialResponse(event, inSubjectOrder(recordHandler), processor, {
    context,
    ...IN_SUBJECT_ORDER,
  }),
);
