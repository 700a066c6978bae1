import { ErasureRequestedV1 } from '../events';
import { functionServices } from '../shared/functions/services';
import { ErasureRequestOperation } from '../shared/operations/erasure-request';
import { queueOperationHandler } from '../shared/operations/environment';

const services = functionServices('erasure-request');
const operation = new ErasureRequestOperation(services);

/** Erasure request: shreds and deletes what may go, restricts what the law keeps. */
export const handler = queueOperationHandler(
  'erasure-request',
  ErasureRequestedV1,
  services,
  (event) => operation.handle(event),
);
