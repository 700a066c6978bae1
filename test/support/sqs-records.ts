import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

/** How an SQS record made by {@link sqsRecord} differs from the default. */
export interface SqsRecordOptions {
  /** @default a random UUID (the same id on every delivery makes a redelivery) */
  readonly messageId?: string;
  /** The `SenderId` SQS gives the function. @default moto's, `AIDAIT2UOQQY3AUEKVGXU` */
  readonly senderId?: string;
  /** Name of the queue in the record's ARN. @default `test` */
  readonly queue?: string;
}

/**
 * An SQS record carrying `body` (sent as is when a string, else as JSON), first delivery, as the
 * event source mapping gives it to a function.
 */
export function sqsRecord(body: unknown, options: SqsRecordOptions = {}): SQSRecord {
  const messageId = options.messageId ?? randomUUID();
  const now = String(Date.now());
  return {
    messageId,
    receiptHandle: messageId,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: options.senderId ?? 'AIDAIT2UOQQY3AUEKVGXU',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:eu-west-3:000000000000:${options.queue ?? 'test'}`,
    awsRegion: 'eu-west-3',
  };
}

/** An SQS event of one record carrying `body` (see {@link sqsRecord}). */
export function sqsEvent(body: unknown, options: SqsRecordOptions = {}): SQSEvent {
  return { Records: [sqsRecord(body, options)] };
}
