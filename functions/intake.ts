import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import { IN_QUEUE_ORDER } from '../shared/batch/batch-invocation';
import { functionServices } from '../shared/functions/services';
import { OperationForwarder } from '../shared/intake/forwarder';
import { IntakeBatch } from '../shared/intake/intake-batch';
import { Rejector } from '../shared/batch/rejector';
import { decideIngressRecord, type IngressRules } from '../shared/intake/validate';

const services = functionServices('intake');
const rules: IngressRules = {
  uploadBucket: services.uploads.bucket,
  producers: services.producers,
};
const intake = new IntakeBatch({
  forwarder: new OperationForwarder(services.operationQueues.sqs, services.operationQueues.routes),
  rejector: new Rejector({ actor: 'intake', ...services }),
  log: services.log,
  logger: services.logger,
});

const processor = new BatchProcessor(EventType.SQS);

/**
 * One ingress message: kept for forwarding when valid and within its sender's registration, else
 * rejected with its reason.
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  const decision = decideIngressRecord(record.body, record.attributes.SenderId, rules);
  if (decision.ok) intake.accept(record, decision.event);
  else await intake.reject(record, decision);
};

/**
 * Intake: validates each ingress message against its sender's registration and the wire contract
 * v1, rejects permanent errors to the dead-letter queue at once (with a `rejected` log record), and
 * forwards valid events unchanged to the queue of their operation. See docs/intake.md.
 */
export const handler = intake.handler((event, context) =>
  processPartialResponse(event, recordHandler, processor, { context, ...IN_QUEUE_ORDER }),
);
