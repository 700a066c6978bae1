import { Logger } from '@aws-lambda-powertools/logger';
import { requireEnv } from '../shared/config';
import { createDynamoClient } from '../shared/aws/dynamodb';
import { createKmsClient } from '../shared/aws/kms';
import { createS3Client } from '../shared/aws/s3';
import { createSqsClient } from '../shared/aws/sqs';
import { DeadLetterRouter } from '../shared/batch/dead-letter';
import { createOperationHandler } from '../shared/batch/operation-batch';
import { ProcessingLogWriter } from '../shared/processing-log/writer';
import { Pseudonymizer } from '../shared/pseudonym';
import { DocumentUploadedV1 } from '../events';

const s3 = createS3Client();
const pseudonyms = new Pseudonymizer(createKmsClient(), requireEnv('PSEUDONYM_KEY_ID'));

/** Document upload: stores the document in the vault and schedules its retention. */
export const handler = createOperationHandler({
  actor: 'document-upload',
  schema: DocumentUploadedV1,
  operate: async (event) => [
    {
      tenant: event.tenantid,
      operation: 'received',
      outcome: 'success',
      subject: await pseudonyms.subject(event.tenantid, event.data.subjectId),
      category: event.data.category,
      eventId: event.id,
      eventSource: event.source,
      eventType: event.type,
    },
  ],
  log: new ProcessingLogWriter({
    s3,
    bucket: requireEnv('LOG_BUCKET_NAME'),
    actor: 'document-upload',
  }),
  deadLetters: new DeadLetterRouter(createSqsClient(), requireEnv('DEAD_LETTER_QUEUE_URL')),
  pseudonyms,
  dynamo: createDynamoClient(),
  idempotencyTable: requireEnv('IDEMPOTENCY_TABLE_NAME'),
  logger: new Logger(),
});
