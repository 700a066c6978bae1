import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord, Context } from 'aws-lambda';
import { requireEnv } from '../shared/config';
import { createSqsClient } from '../shared/aws/sqs';

const logger = new Logger();
const sqs = createSqsClient();
const routes: Record<string, string> = {
  'privacy.document.uploaded.v1': requireEnv('DOCUMENT_UPLOAD_QUEUE_URL'),
  'privacy.account.closed.v1': requireEnv('ACCOUNT_CLOSURE_QUEUE_URL'),
  'privacy.erasure.requested.v1': requireEnv('ERASURE_REQUEST_QUEUE_URL'),
  'privacy.access.requested.v1': requireEnv('ACCESS_REQUEST_QUEUE_URL'),
  'privacy.legal-hold.placed.v1': requireEnv('LEGAL_HOLD_QUEUE_URL'),
  'privacy.legal-hold.released.v1': requireEnv('LEGAL_HOLD_QUEUE_URL'),
};
const processor = new BatchProcessor(EventType.SQS);

const recordHandler = async (record: SQSRecord): Promise<void> => {
  const event = JSON.parse(record.body) as { type?: string };
  const queueUrl = event.type ? routes[event.type] : undefined;
  if (!queueUrl) throw new Error(`unsupported type`);
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: record.body }));
  logger.info('forwarded', { messageId: record.messageId });
};

/** Intake: validates ingress events and forwards them to their operation. */
export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context });
