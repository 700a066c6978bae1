import { SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/** Message attribute carrying the machine-readable reason of a rejection. */
export const REJECTION_REASON_ATTRIBUTE = 'rejection-reason';
/** Message attribute carrying a human-readable detail of a rejection (never personal data). */
export const REJECTION_DETAIL_ATTRIBUTE = 'rejection-detail';

/**
 * Sends a message that can never be processed to the dead-letter queue at once, with its
 * reason as message attributes, so that it is not retried and nothing is lost.
 */
export class DeadLetterRouter {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** Copies `record` (body and attributes) to the dead-letter queue with the rejection reason. */
  async reject(
    record: SQSRecord,
    reason: string,
    detail: string,
    rejectedBy: string,
  ): Promise<void> {
    const attributes: Record<string, MessageAttributeValue> = {};
    for (const [name, attr] of Object.entries(record.messageAttributes ?? {})) {
      if (Object.keys(attributes).length >= 6) break; // SQS allows 10 attributes; keep room for ours
      if (attr.stringValue !== undefined)
        attributes[name] = { DataType: attr.dataType, StringValue: attr.stringValue };
    }
    attributes[REJECTION_REASON_ATTRIBUTE] = {
      DataType: 'String',
      StringValue: reason.slice(0, 256),
    };
    attributes[REJECTION_DETAIL_ATTRIBUTE] = {
      DataType: 'String',
      StringValue: detail.slice(0, 1024) || reason,
    };
    attributes['rejected-by'] = { DataType: 'String', StringValue: rejectedBy };
    attributes['original-message-id'] = { DataType: 'String', StringValue: record.messageId };
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: record.body,
        MessageAttributes: attributes,
      }),
    );
  }
}
