import { AccountClosedV1 } from '../events';
import { requireEnv } from '../shared/config';
import { AccountClosureOperation } from '../shared/operations/account-closure';
import { queueOperationHandler, servicesFromEnvironment } from '../shared/operations/environment';

const services = servicesFromEnvironment();
const operation = new AccountClosureOperation(services.context, {
  s3: services.s3,
  exportBucket: requireEnv('EXPORT_BUCKET_NAME'),
});

/** Account closure: exports first when asked, then starts the clocks that waited for closure. */
export const handler = queueOperationHandler(
  'account-closure',
  AccountClosedV1,
  services,
  (event) => operation.handle(event),
);
