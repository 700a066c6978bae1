import { DocumentUploadedV1 } from '../events';
import { requireEnv } from '../shared/config';
import { DocumentUploadOperation } from '../shared/operations/document-upload';
import { queueOperationHandler, servicesFromEnvironment } from '../shared/operations/environment';

const services = servicesFromEnvironment();
const operation = new DocumentUploadOperation(services.context, {
  s3: services.s3,
  uploadBucket: requireEnv('UPLOAD_BUCKET_NAME'),
});

/** Document upload: stores the document in the vault and schedules its retention. */
export const handler = queueOperationHandler(
  'document-upload',
  DocumentUploadedV1,
  services,
  (event) => operation.handle(event),
);
