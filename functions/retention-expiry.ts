import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { DocumentItem } from '../shared/retention/retention-store';
import { functionServices } from '../shared/functions/services';
import { DocumentExpiry } from '../shared/operations/retention-expiry';

const services = functionServices('retention-expiry');
const expiry = new DocumentExpiry(services);
const log = services.log;
const processor = new BatchProcessor(EventType.DynamoDBStreams);

const recordHandler = async (record: DynamoDBRecord): Promise<void> => {
  const old = record.dynamodb?.OldImage;
  if (!old) return;
  const item = unmarshall(old as Record<string, AttributeValue>) as DocumentItem;
  for (const entry of await expiry.ttlRemoved(item)) log.add(entry);
};

/** Retention expiry: documents whose retention item TTL removed (table stream, old image). */
export const handler = async (event: DynamoDBStreamEvent, context: Context) => {
  log.begin();
  const response = await processPartialResponse(event, recordHandler, processor, {
    context,
    throwOnFullBatchFailure: false,
  });
  // Every purge is idempotent: if the log cannot be written, the whole batch is retried.
  await log.flush();
  return response;
};
