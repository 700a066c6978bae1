import * as z from 'zod/mini';
import { LegalHoldPlacedV1, LegalHoldReleasedV1 } from '../events';
import { functionServices } from '../shared/functions/services';
import { queueOperationHandler } from '../shared/operations/environment';
import { LegalHoldOperation } from '../shared/operations/legal-hold';

const services = functionServices('legal-hold');
const operation = new LegalHoldOperation(services);

/** Legal hold placed / released: suspends and restores every expiry of the subject. */
export const handler = queueOperationHandler(
  'legal-hold',
  z.discriminatedUnion('type', [LegalHoldPlacedV1, LegalHoldReleasedV1]),
  services,
  (event) => operation.handle(event),
);
