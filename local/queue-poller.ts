import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { passesFilterCriteria } from './event-filter';
import { count, sleep, type BatchResponse, type PollerContext } from './poller-context';
import type { LocalEventSourceMapping, TemplateFunction } from './template-model';

/** How a queue poller receives and retries. */
export interface QueuePollerOptions {
  /** Wait time of each ReceiveMessage long poll, in seconds. */
  readonly receiveWaitSeconds: number;
  /** Visibility timeout given to a failed message; undefined keeps the queue's own. */
  readonly failedMessageVisibilitySeconds?: number;
  /**
   * Batches this poller delivers at once: it goes on receiving while fewer are in flight, as
   * Lambda's pollers keep up to the mapping's maximum concurrency of batches running.
   */
  readonly batchesInFlight: number;
}

/** An SQS message as Lambda delivers it in an SQS event. */
export function toLambdaSqsRecord(message: Message, arn: string, region: string): SQSRecord {
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, attr] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: attr.StringValue,
      binaryValue: attr.BinaryValue ? Buffer.from(attr.BinaryValue).toString('base64') : undefined,
      stringListValues: [],
      binaryListValues: [],
      dataType: attr.DataType ?? 'String',
    };
  }
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      // The sender's IAM identity as SQS reports it (moto: one constant id); never made up here, so
      // a message without one is refused as from an unregistered sender.
      SenderId: a.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: region,
  };
}

/**
 * One poller of an SQS event source mapping, as Lambda runs it: long polls up to the batch size
 * within the batching window, drops records the filter criteria reject (deleted unseen), invokes
 * the function, deletes what succeeded and leaves the failures (all of them when the function
 * throws, or those of its partial batch response) to the queue's visibility timeout and redrive.
 */
export class QueuePoller {
  constructor(
    private readonly context: PollerContext,
    private readonly sqs: SQSClient,
    private readonly mapping: LocalEventSourceMapping,
    private readonly fn: TemplateFunction,
    private readonly options: QueuePollerOptions,
  ) {}

  /**
   * Polls until the runtime stops, with up to `batchesInFlight` batches delivered at once; then
   * waits for those in flight.
   */
  async run(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    while (this.context.isRunning()) {
      if (inFlight.size >= this.options.batchesInFlight) {
        await Promise.race(inFlight);
        continue;
      }
      try {
        const batch = await this.receiveBatch();
        if (batch.length === 0) continue;
        const delivery = this.deliver(batch)
          .catch((error: unknown) => this.failed(error))
          .finally(() => inFlight.delete(delivery));
        inFlight.add(delivery);
      } catch (error) {
        if (!this.context.isRunning()) break;
        await this.failed(error);
      }
    }
    await Promise.allSettled(inFlight);
  }

  private async failed(error: unknown): Promise<void> {
    this.context.log(`  poller ${this.fn.entry}: ${(error as Error).message}`);
    await sleep(200);
  }

  private async receiveBatch(): Promise<Message[]> {
    const m = this.mapping;
    const batch: Message[] = [];
    const windowEnds = Date.now() + m.batchingWindowSeconds * 1000;
    do {
      const received = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: m.source,
          MaxNumberOfMessages: Math.min(10, m.batchSize - batch.length),
          WaitTimeSeconds: batch.length === 0 ? this.options.receiveWaitSeconds : 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = received.Messages ?? [];
      batch.push(...messages);
      if (messages.length === 0 && batch.length > 0) await sleep(50);
    } while (
      this.context.isRunning() &&
      batch.length > 0 &&
      batch.length < m.batchSize &&
      Date.now() < windowEnds
    );
    return batch;
  }

  private async deliver(batch: Message[]): Promise<void> {
    const { fn, mapping: m, context } = this;
    const records = batch.map((msg) => toLambdaSqsRecord(msg, m.sourceArn, context.region));
    // Event filtering: records that do not match are deleted without invoking, as Lambda does.
    const passing = records.filter((r) =>
      passesFilterCriteria(m.filterCriteria, r as unknown as Record<string, unknown>),
    );
    const dropped = records.filter((r) => !passing.includes(r));
    const failed = passing.length > 0 ? await this.invoke(passing) : new Set<string>();
    count(context.stats.failedItems, fn.key, failed.size);
    const done = [...passing.filter((r) => !failed.has(r.messageId)), ...dropped];
    for (let i = 0; i < done.length; i += 10) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: m.source,
          Entries: done
            .slice(i, i + 10)
            .map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    const retryAfter = this.options.failedMessageVisibilitySeconds;
    if (retryAfter === undefined || failed.size === 0) return;
    const retry = passing.filter((r) => failed.has(r.messageId));
    for (let i = 0; i < retry.length; i += 10) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: m.source,
          Entries: retry.slice(i, i + 10).map((r, j) => ({
            Id: String(j),
            ReceiptHandle: r.receiptHandle,
            VisibilityTimeout: retryAfter,
          })),
        }),
      );
    }
  }

  /** Invokes the function with `records`; returns the message ids that failed. */
  private async invoke(records: SQSRecord[]): Promise<Set<string>> {
    const { fn, mapping: m, context } = this;
    count(context.stats.deliveredRecords, fn.key, records.length);
    const all = new Set(records.map((r) => r.messageId));
    try {
      const response = (await context.invoke(fn, { Records: records })) as BatchResponse;
      if (!m.reportBatchItemFailures || !response?.batchItemFailures) return new Set();
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      // An unknown or empty identifier fails the whole batch, as in Lambda.
      return [...failed].some((id) => !all.has(id)) ? all : failed;
    } catch (error) {
      context.log(
        `  ${fn.entry} failed its batch of ${records.length}: ${(error as Error).message}`,
      );
      return all;
    }
  }
}
