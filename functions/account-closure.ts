import { AccountClosedV1 } from '../events';
import { functionServices } from '../shared/functions/services';
import { AccountClosureOperation } from '../shared/operations/account-closure';
import { queueOperationHandler } from '../shared/operations/environment';

const services = functionServices('account-closure');
const operation = new AccountClosureOperation(services, {
  s3: services.exports.s3,
  exportBucket: services.exports.bucket,
});

/** Account closure: exports first when asked, then starts the clocks that waited for closure. */
export const handler = queueOperationHandler(
  'account-closure',
  AccountClosedV1,
  services,
  (event) => operation.handle(event),
);
