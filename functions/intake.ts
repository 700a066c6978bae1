import { Logger } from '@aws-lambda-powertools/logger';
import { createDynamoClient } from '../shared/aws/dynamodb';
import { createKmsClient } from '../shared/aws/kms';
import { createS3Client } from '../shared/aws/s3';
import { createSqsClient } from '../shared/aws/sqs';
import { DeadLetterRouter } from '../shared/batch/dead-letter';
import { requireEnv } from '../shared/config';
import { OperationForwarder } from '../shared/intake/forwarder';
import { createIntakeHandler } from '../shared/intake/intake-batch';
import { IntakeRejector } from '../shared/intake/rejections';
import { ProcessingLogWriter } from '../shared/processing-log/writer';
import { Pseudonymizer } from '../shared/pseudonym';

const actor = 'intake';
const sqs = createSqsClient();
const log = new ProcessingLogWriter({
  s3: createS3Client(),
  bucket: requireEnv('LOG_BUCKET_NAME'),
  actor,
});
const legalHoldQueue = requireEnv('LEGAL_HOLD_QUEUE_URL');

/**
 * Intake: validates each ingress message against the wire contract v1, rejects permanent errors
 * to the dead-letter queue at once (with a `rejected` log record), and forwards valid events
 * unchanged to the queue of their operation. See docs/intake.md.
 */
export const handler = createIntakeHandler({
  rules: { uploadBucket: requireEnv('UPLOAD_BUCKET_NAME') },
  forwarder: new OperationForwarder(sqs, {
    'privacy.document.uploaded.v1': requireEnv('DOCUMENT_UPLOAD_QUEUE_URL'),
    'privacy.account.closed.v1': requireEnv('ACCOUNT_CLOSURE_QUEUE_URL'),
    'privacy.erasure.requested.v1': requireEnv('ERASURE_REQUEST_QUEUE_URL'),
    'privacy.access.requested.v1': requireEnv('ACCESS_REQUEST_QUEUE_URL'),
    'privacy.legal-hold.placed.v1': legalHoldQueue,
    'privacy.legal-hold.released.v1': legalHoldQueue,
  }),
  rejector: new IntakeRejector({
    actor,
    log,
    deadLetters: new DeadLetterRouter(sqs, requireEnv('DEAD_LETTER_QUEUE_URL')),
    pseudonyms: new Pseudonymizer(createKmsClient(), requireEnv('PSEUDONYM_KEY_ID')),
    dynamo: createDynamoClient(),
    idempotencyTable: requireEnv('IDEMPOTENCY_TABLE_NAME'),
  }),
  log,
  logger: new Logger(),
});
