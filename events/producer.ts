import {
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { MAX_EVENT_BYTES } from './envelope';
import { issuePath, reasonOfIssue } from './issue-reason';
import { isEventType, PrivacyEvent } from './types';

/** SQS accepts at most ten entries per SendMessageBatch call. */
export const MAX_BATCH_ENTRIES = 10;
/** SQS limit on the total payload of one SendMessageBatch call (bodies and attributes). */
export const MAX_BATCH_BYTES = 1024 * 1024;

/** Message attribute naming the event type (`privacy.document.uploaded.v1`…). */
export const TYPE_ATTRIBUTE = 'type';
/** Message attribute naming the tenant (the controller). */
export const TENANT_ATTRIBUTE = 'tenant';

/** The message attributes the pipeline sets on every event message: `type` and `tenant`. */
export function eventMessageAttributes(event: {
  type: string;
  tenantid: string;
}): Record<string, MessageAttributeValue> {
  return {
    [TYPE_ATTRIBUTE]: { DataType: 'String', StringValue: event.type },
    [TENANT_ATTRIBUTE]: { DataType: 'String', StringValue: event.tenantid },
  };
}

/** Approximate SQS size of one message: body plus attribute names, types and values. */
export function messageBytes(
  body: string,
  attributes: Record<string, MessageAttributeValue> = {},
): number {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    bytes += Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}

/**
 * Splits items into SendMessageBatch calls: at most {@link MAX_BATCH_ENTRIES} entries and at most
 * {@link MAX_BATCH_BYTES} per call, keeping their order.
 */
export function chunkForBatch<T>(items: readonly T[], bytesOf: (item: T) => number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = bytesOf(item);
    if (
      current.length > 0 &&
      (current.length >= MAX_BATCH_ENTRIES || size + bytes > MAX_BATCH_BYTES)
    ) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Why the producer refused an event before sending it. */
export class InvalidEventError extends Error {
  /** Machine-readable reason (same vocabulary as the intake's `rejection-reason`). */
  readonly reason: string;

  constructor(reason: string, message: string) {
    super(message);
    this.name = 'InvalidEventError';
    this.reason = reason;
  }
}

/** One event the producer could not hand to the ingress queue, with what to do about it. */
export interface ProducerFailure {
  /** Position of the event in the input. */
  readonly index: number;
  /** The event's `id`, when it has one. */
  readonly eventId: string | undefined;
  /** `invalid-event` (fix it, do not retry) or the SQS error code of the entry. */
  readonly code: string;
  readonly message: string;
  /** True when sending the same event again may succeed (throttling, SQS internal errors). */
  readonly retryable: boolean;
}

/** Outcome of {@link EventProducer.sendBatch}: what was sent and what was not. */
export interface ProducerResult {
  /** SQS message ids of the sent events, by input position. */
  readonly sent: ReadonlyArray<{ readonly index: number; readonly messageId: string }>;
  readonly failed: readonly ProducerFailure[];
}

/**
 * Validates an event of the wire contract v1 (schema and size): returns the typed event, or throws
 * an {@link InvalidEventError} whose `reason` is what the intake would answer.
 */
export function validateEvent(event: unknown): PrivacyEvent {
  const type = (event as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && !isEventType(type))
    throw new InvalidEventError('unknown-type', 'type is not a type of the wire contract v1');
  const parsed = PrivacyEvent.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issuePath(issue);
    throw new InvalidEventError(reasonOfIssue(issue), `${path}: ${issue?.message ?? 'invalid'}`);
  }
  if (Buffer.byteLength(JSON.stringify(event), 'utf8') > MAX_EVENT_BYTES)
    throw new InvalidEventError('oversize', `event is larger than ${MAX_EVENT_BYTES} bytes`);
  return parsed.data;
}

/**
 * Sends events of the wire contract v1 to the pipeline's ingress queue (`IngressQueueUrl`), for
 * TypeScript services. Validates each event before sending, so an invalid event fails in the
 * producer instead of landing in the dead-letter queue; sets the `type` and `tenant` message
 * attributes; sends batches of up to ten and reports each failed entry. The body is the event
 * exactly as given (structured JSON mode), so unknown optional fields pass through.
 */
export class EventProducer {
  constructor(
    private readonly queueUrl: string,
    private readonly sqs: SQSClient = new SQSClient({}),
  ) {}

  /** Validates and sends one event; returns its SQS message id. Throws on any failure. */
  async send(event: unknown): Promise<string> {
    const valid = validateEvent(event);
    const response = await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(event),
        MessageAttributes: eventMessageAttributes(valid),
      }),
    );
    return response.MessageId!;
  }

  /**
   * Validates and sends any number of events in SendMessageBatch calls of up to ten. Never
   * throws for one bad entry: invalid events and entries SQS refused are listed in `failed`
   * (a whole call that fails lists all its entries, retryable when the error is).
   */
  async sendBatch(events: readonly unknown[]): Promise<ProducerResult> {
    const sent: Array<{ index: number; messageId: string }> = [];
    const failed: ProducerFailure[] = [];
    const ready: Array<{
      index: number;
      eventId: string;
      body: string;
      attributes: Record<string, MessageAttributeValue>;
    }> = [];
    events.forEach((event, index) => {
      try {
        const valid = validateEvent(event);
        ready.push({
          index,
          eventId: valid.id,
          body: JSON.stringify(event),
          attributes: eventMessageAttributes(valid),
        });
      } catch (error) {
        const id = (event as { id?: unknown } | null)?.id;
        failed.push({
          index,
          eventId: typeof id === 'string' ? id : undefined,
          code: 'invalid-event',
          message: error instanceof InvalidEventError ? error.reason : String(error),
          retryable: false,
        });
      }
    });
    for (const chunk of chunkForBatch(ready, (e) => messageBytes(e.body, e.attributes))) {
      try {
        const response = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: chunk.map((e) => ({
              Id: String(e.index),
              MessageBody: e.body,
              MessageAttributes: e.attributes,
            })),
          }),
        );
        for (const ok of response.Successful ?? [])
          sent.push({ index: Number(ok.Id), messageId: ok.MessageId! });
        for (const ko of response.Failed ?? []) {
          const entry = chunk.find((e) => String(e.index) === ko.Id);
          failed.push({
            index: Number(ko.Id),
            eventId: entry?.eventId,
            code: ko.Code ?? 'unknown',
            message: ko.Message ?? '',
            retryable: !ko.SenderFault,
          });
        }
      } catch (error) {
        const e = error as {
          name?: string;
          message?: string;
          $retryable?: unknown;
          $metadata?: { httpStatusCode?: number };
        };
        const status = e.$metadata?.httpStatusCode;
        const retryable =
          Boolean(e.$retryable) || status === undefined || status >= 500 || status === 429;
        for (const entry of chunk)
          failed.push({
            index: entry.index,
            eventId: entry.eventId,
            code: e.name ?? 'Error',
            message: e.message ?? '',
            retryable,
          });
      }
    }
    sent.sort((a, b) => a.index - b.index);
    failed.sort((a, b) => a.index - b.index);
    return { sent, failed };
  }
}
