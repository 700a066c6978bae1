import { AccessRequestedV1 } from '../events';
import { functionServices } from '../shared/functions/services';
import { AccessRequestOperation } from '../shared/operations/access-request';
import { queueOperationHandler } from '../shared/operations/environment';

const services = functionServices('access-request');
const operation = new AccessRequestOperation(services, {
  s3: services.exports.s3,
  exportBucket: services.exports.bucket,
});

/** Access request: a machine-readable export of the subject's data in the export bucket. */
export const handler = queueOperationHandler(
  'access-request',
  AccessRequestedV1,
  services,
  (event) => operation.handle(event),
);
