import { AccessRequestedV1 } from '../events';
import { requireEnv } from '../shared/config';
import { AccessRequestOperation } from '../shared/operations/access-request';
import { queueOperationHandler, servicesFromEnvironment } from '../shared/operations/environment';

const services = servicesFromEnvironment();
const operation = new AccessRequestOperation(services.context, {
  s3: services.s3,
  exportBucket: requireEnv('EXPORT_BUCKET_NAME'),
});

/** Access request: a machine-readable export of the subject's data in the export bucket. */
export const handler = queueOperationHandler(
  'access-request',
  AccessRequestedV1,
  services,
  (event) => operation.handle(event),
);
