import { DocumentUploadedV1 } from '../events';
import { functionServices } from '../shared/functions/services';
import { DocumentUploadOperation } from '../shared/operations/document-upload';
import { queueOperationHandler } from '../shared/operations/environment';

const services = functionServices('document-upload');
const operation = new DocumentUploadOperation(services, {
  s3: services.uploads.s3,
  uploadBucket: services.uploads.bucket,
});

/** Document upload: stores the document in the vault and schedules its retention. */
export const handler = queueOperationHandler(
  'document-upload',
  DocumentUploadedV1,
  services,
  (event) => operation.handle(event),
);
