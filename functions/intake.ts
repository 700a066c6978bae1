import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createDynamoClient } from '../shared/aws/dynamodb';
import { createKmsClient } from '../shared/aws/kms';
import { createS3Client } from '../shared/aws/s3';
import { createSqsClient } from '../shared/aws/sqs';
import { DeadLetterRouter } from '../shared/batch/dead-letter';
import { requireEnv } from '../shared/config';
import { OperationForwarder } from '../shared/intake/forwarder';
import { IntakeBatch } from '../shared/intake/intake-batch';
import { IntakeRejector } from '../shared/intake/rejections';
import { decideIngressMessage, type IntakeRules } from '../shared/intake/validate';
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
const rules: IntakeRules = { uploadBucket: requireEnv('UPLOAD_BUCKET_NAME') };
const intake = new IntakeBatch({
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

const processor = new BatchProcessor(EventType.SQS);

/** One ingress message: kept for forwarding when valid, else rejected with its reason. */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  const decision = decideIngressMessage(record.body, rules);
  if (decision.ok) intake.accept(record, decision.event);
  else await intake.reject(record, decision);
};

/**
 * Intake: validates each ingress message against the wire contract v1, rejects permanent errors
 * to the dead-letter queue at once (with a `rejected` log record), and forwards valid events
 * unchanged to the queue of their operation. See docs/intake.md.
 */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  intake.invocation(event, context, () =>
    processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
      processInParallel: false, // in queue order: forwarded in the order they came
    }),
  );
