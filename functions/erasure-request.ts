import { ErasureRequestedV1 } from '../events';
import { ErasureRequestOperation } from '../shared/operations/erasure-request';
import { queueOperationHandler, servicesFromEnvironment } from '../shared/operations/environment';

const services = servicesFromEnvironment();
const operation = new ErasureRequestOperation(services.context);

/** Erasure request: shreds and deletes what may go, restricts what the law keeps. */
export const handler = queueOperationHandler(
  'erasure-request',
  ErasureRequestedV1,
  services,
  (event) => operation.handle(event),
);
