import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { chunkForBatch, eventMessageAttributes, messageBytes } from '../../events/producer';
import type { EventType, PrivacyEvent } from '../../events';

/** The operation queue of each event type (legal holds placed and released share one queue). */
export type OperationRoutes = Readonly<Record<EventType, string>>;

/** One valid event to forward: the SQS message it came in, and its body unchanged. */
export interface ForwardItem {
  readonly messageId: string;
  readonly body: string;
  readonly event: PrivacyEvent;
}

/** A forwarded message that did not reach its queue, and whether a retry can help. */
export interface ForwardFailure {
  readonly messageId: string;
  readonly code: string;
  readonly senderFault: boolean;
}

/**
 * Forwards valid events unchanged to the queue of their operation: grouped by queue, in
 * SendMessageBatch calls of up to ten entries (and at most 1 MiB), in arrival order, with the
 * `type` and `tenant` message attributes. Reports each entry that did not get through; a call that
 * fails as a whole fails all its entries. Never throws.
 */
export class OperationForwarder {
  constructor(
    private readonly sqs: SQSClient,
    private readonly routes: OperationRoutes,
  ) {}

  /** Forwards `items`; returns the entries that failed (to be retried by the caller). */
  async forward(items: readonly ForwardItem[]): Promise<ForwardFailure[]> {
    const byQueue = new Map<string, ForwardItem[]>();
    for (const item of items) {
      const queue = this.routes[item.event.type];
      byQueue.set(queue, [...(byQueue.get(queue) ?? []), item]);
    }
    const failures: ForwardFailure[] = [];
    for (const [queueUrl, queued] of byQueue) {
      const entries = queued.map((item, i) => ({
        Id: String(i),
        item,
        attributes: eventMessageAttributes(item.event),
      }));
      for (const chunk of chunkForBatch(entries, (e) => messageBytes(e.item.body, e.attributes))) {
        try {
          const response = await this.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((e) => ({
                Id: e.Id,
                MessageBody: e.item.body,
                MessageAttributes: e.attributes,
              })),
            }),
          );
          const ok = new Set((response.Successful ?? []).map((s) => s.Id));
          for (const failed of response.Failed ?? []) {
            const entry = chunk.find((e) => e.Id === failed.Id);
            if (entry)
              failures.push({
                messageId: entry.item.messageId,
                code: failed.Code ?? 'unknown',
                senderFault: failed.SenderFault ?? false,
              });
          }
          // An entry SQS reports neither way did not get through as far as we know.
          for (const e of chunk)
            if (!ok.has(e.Id) && !failures.some((f) => f.messageId === e.item.messageId))
              failures.push({
                messageId: e.item.messageId,
                code: 'unreported',
                senderFault: false,
              });
        } catch (error) {
          const code = (error as { name?: string }).name ?? 'Error';
          for (const e of chunk)
            failures.push({ messageId: e.item.messageId, code, senderFault: false });
        }
      }
    }
    return failures;
  }
}
