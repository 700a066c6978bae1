import * as z from 'zod/mini';
import { LegalHoldPlacedV1, LegalHoldReleasedV1 } from '../events';
import { queueOperationHandler, servicesFromEnvironment } from '../shared/operations/environment';
import { LegalHoldOperation } from '../shared/operations/legal-hold';

const services = servicesFromEnvironment();
const operation = new LegalHoldOperation(services.context);

/** Legal hold placed / released: suspends and restores every expiry of the subject. */
export const handler = queueOperationHandler(
  'legal-hold',
  z.discriminatedUnion('type', [LegalHoldPlacedV1, LegalHoldReleasedV1]),
  services,
  (event) => operation.handle(event),
);
