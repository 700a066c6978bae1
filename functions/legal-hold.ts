import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { LegalHoldPlacedV1, LegalHoldReleasedV1 } from '../events';
import { OperationBatch } from '../shared/batch/operation-batch';
import { inSubjectOrder, IN_SUBJECT_ORDER } from '../shared/batch/subject-order';
import { functionServices } from '../shared/functions/services';
import { LegalHoldOperation } from '../shared/operations/legal-hold';

const services = functionServices('legal-hold');
const operation = new LegalHoldOperation(services);
const batch = new OperationBatch('legal-hold', services);
const processor = new BatchProcessor(EventType.SQS);
const LegalHoldEvent = z.discriminatedUnion('type', [LegalHoldPlacedV1, LegalHoldReleasedV1]);

/** One queued hold placed or released: applied once per (tenantid, source, id), or rejected with its reason. */
const recordHandler = (record: SQSRecord): Promise<void> =>
  batch.applyOnce(record, LegalHoldEvent, (event) => operation.handle(event));

/** Legal hold placed / released: suspends and restores every expiry of the subject. */
export const handler = batch.handler((event, context) =>
  processPartialResponse(event, inSubjectOrder(recordHandler), processor, {
    context,
    ...IN_SUBJECT_ORDER,
  }),
);
