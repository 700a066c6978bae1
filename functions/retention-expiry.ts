import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import { BatchInvocation } from '../shared/batch/batch-invocation';
import { functionServices } from '../shared/functions/services';
import { DocumentExpiry } from '../shared/operations/retention-expiry';
import { logObjectsOf } from '../shared/processing-log/log-object-check';
import type { DocumentItem } from '../shared/retention/retention-items';

const services = functionServices('retention-expiry');
const expiry = new DocumentExpiry(services);
const { log } = services;
const logObjects = logObjectsOf(log);
const invocations = new BatchInvocation({ log, logger: services.logger });

const processor = new BatchProcessor(EventType.DynamoDBStreams);

/** One retention item TTL removed (the stream's old image): its document expires, or is put back. */
const recordHandler = async (record: DynamoDBRecord): Promise<void> => {
  const old = record.dynamodb?.OldImage;
  if (!old) return;
  const item = unmarshall(old as Record<string, AttributeValue>) as DocumentItem;
  for (const entry of await expiry.ttlRemoved(item, logObjects)) log.add(entry);
};

/**
 * Retention expiry: documents whose retention item TTL removed (table stream). Every purge is
 * idempotent: if the log cannot be written, the invocation fails and the stream retries it.
 */
export const handler = (
  event: DynamoDBStreamEvent,
  context: Context,
): Promise<DynamoDBBatchResponse> =>
  invocations.run(
    context,
    () =>
      processPartialResponse(event, recordHandler, processor, {
        context,
        throwOnFullBatchFailure: false,
        // In stream order: the expiries of one subject decide in turn which one takes its key.
        processInParallel: false,
      }),
    (_response, error) => {
      throw error;
    },
  );
