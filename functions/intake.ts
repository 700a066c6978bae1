import { functionServices } from '../shared/functions/services';
import { OperationForwarder } from '../shared/intake/forwarder';
import { createIntakeHandler } from '../shared/intake/intake-batch';
import { IntakeRejector } from '../shared/intake/rejections';

const services = functionServices('intake');

/**
 * Intake: validates each ingress message against the wire contract v1, rejects permanent errors
 * to the dead-letter queue at once (with a `rejected` log record), and forwards valid events
 * unchanged to the queue of their operation. See docs/intake.md.
 */
export const handler = createIntakeHandler({
  rules: { uploadBucket: services.uploads.bucket },
  forwarder: new OperationForwarder(services.operationQueues.sqs, services.operationQueues.routes),
  rejector: new IntakeRejector({
    actor: 'intake',
    log: services.log,
    deadLetters: services.deadLetters,
    pseudonyms: services.pseudonyms,
    dynamo: services.idempotency.dynamo,
    idempotencyTable: services.idempotency.table,
  }),
  log: services.log,
  logger: services.logger,
});
