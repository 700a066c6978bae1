import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  REJECTION_DETAIL_ATTRIBUTE,
  REJECTION_REASON_ATTRIBUTE,
} from '../shared/batch/dead-letter';

/** Attributes the pipeline adds when it dead-letters a message (dropped on redrive). */
export const REJECTION_ATTRIBUTES: readonly string[] = [
  REJECTION_REASON_ATTRIBUTE,
  REJECTION_DETAIL_ATTRIBUTE,
  'rejected-by',
  'original-message-id',
];

/** Reason shown for a message SQS moved after too many receives (it carries no rejection reason). */
export const RECEIVE_LIMIT_REASON = '(none: receive limit reached)';

/** One message of the dead-letter queue, as received. */
export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  /** The rejection reason, or {@link RECEIVE_LIMIT_REASON}. */
  readonly reason: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>>;
  /** SQS system attributes (`SentTimestamp`, `ApproximateReceiveCount`, …). */
  readonly system: Readonly<Record<string, string>>;
  readonly receiptHandle: string;
}

/** How long received messages stay invisible while a command works on them (then reset to 0). */
const HOLD_SECONDS = 300;

function deadLetterOf(m: Message): DeadLetter {
  const attributes = m.MessageAttributes ?? {};
  return {
    messageId: m.MessageId!,
    body: m.Body ?? '',
    reason: attributes[REJECTION_REASON_ATTRIBUTE]?.StringValue ?? RECEIVE_LIMIT_REASON,
    attributes,
    system: (m.Attributes ?? {}) as Record<string, string>,
    receiptHandle: m.ReceiptHandle!,
  };
}

/** Splits `items` into SQS batches of at most 10. */
function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += 10) out.push(items.slice(i, i + 10));
  return out;
}

/**
 * The dead-letter queue as operators see it. {@link browse} receives every message (one receive
 * returns at most 10: it receives until a long-polled receive comes back empty) and, whatever
 * happens, makes every one visible again (ChangeMessageVisibility 0), so that looking loses and
 * hides nothing. Received messages stay invisible for at most {@link HOLD_SECONDS} if the command
 * itself is killed.
 */
export class DeadLetterQueue {
  constructor(
    private readonly sqs: SQSClient,
    readonly queueUrl: string,
  ) {}

  /**
   * Runs `work` over every message of the queue, then makes visible again those it did not
   * return as removed. `work` returns the messages it deleted (see {@link remove}).
   */
  async browse<T>(
    work: (
      messages: readonly DeadLetter[],
    ) => Promise<{ result: T; removed?: ReadonlySet<string> }>,
  ): Promise<T> {
    const received = new Map<string, DeadLetter>();
    let removed: ReadonlySet<string> = new Set();
    try {
      for (;;) {
        const page = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: HOLD_SECONDS,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        const messages = page.Messages ?? [];
        if (messages.length === 0) break;
        for (const m of messages) received.set(m.MessageId!, deadLetterOf(m));
      }
      const done = await work([...received.values()]);
      removed = done.removed ?? removed;
      return done.result;
    } finally {
      await this.release([...received.values()].filter((m) => !removed.has(m.messageId)));
    }
  }

  /** Makes messages visible again at once. */
  private async release(messages: readonly DeadLetter[]): Promise<void> {
    for (const batch of batches(messages))
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.receiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
  }

  /**
   * Sends `messages` to `targetUrl` with their body unchanged and without the pipeline's rejection
   * attributes; returns the ids of those SQS accepted (the others stay in this queue).
   */
  async sendTo(targetUrl: string, messages: readonly DeadLetter[]): Promise<Set<string>> {
    const sent = new Set<string>();
    for (const batch of batches(messages)) {
      const result = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: targetUrl,
          Entries: batch.map((m, i) => {
            const attributes = Object.fromEntries(
              Object.entries(m.attributes).filter(([name]) => !REJECTION_ATTRIBUTES.includes(name)),
            );
            return {
              Id: String(i),
              MessageBody: m.body,
              ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
            };
          }),
        }),
      );
      for (const ok of result.Successful ?? []) sent.add(batch[Number(ok.Id)]!.messageId);
    }
    return sent;
  }

  /** Deletes messages from this queue; returns the ids deleted. */
  async remove(messages: readonly DeadLetter[]): Promise<Set<string>> {
    const deleted = new Set<string>();
    for (const batch of batches(messages)) {
      const result = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle })),
        }),
      );
      for (const ok of result.Successful ?? []) deleted.add(batch[Number(ok.Id)]!.messageId);
    }
    return deleted;
  }
}
