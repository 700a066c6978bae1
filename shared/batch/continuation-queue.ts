import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { SUBJECT_REQUEST_CONTINUED, type SubjectRequestContinuedV1 } from '../../events/internal';
import { ConfigurationError } from '../errors';

/** Time an invocation keeps for what follows its last page (the log write, the continuation). */
export const CONTINUATION_MARGIN_MS = 10_000;

/** What a page passes on to the next one: the data of the continuation event. */
export type Continuation = SubjectRequestContinuedV1['data'];

/**
 * The function's own input queue, where a request too large for one invocation continues, and the
 * budget of one invocation: at most `pageDocuments` documents, and no new work once less than
 * {@link CONTINUATION_MARGIN_MS} of the invocation's time is left. Refuses a page budget that is
 * not a positive integer.
 */
export class ContinuationQueue {
  readonly pageDocuments: number;
  private deadline = Number.POSITIVE_INFINITY;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    pageDocuments: string | number,
    private readonly clock: () => number = Date.now,
  ) {
    this.pageDocuments = Number(pageDocuments);
    if (!Number.isInteger(this.pageDocuments) || this.pageDocuments < 1)
      throw new ConfigurationError(
        'invalid-config',
        `page budget must be a positive integer of documents, got ${String(pageDocuments)}`,
      );
  }

  /** Starts the invocation's time budget from its remaining time. */
  registerLambdaContext(context: Context): void {
    this.deadline = this.clock() + context.getRemainingTimeInMillis();
  }

  /** Whether the invocation may start more work (more than the margin left). */
  hasTime(): boolean {
    return this.deadline - this.clock() > CONTINUATION_MARGIN_MS;
  }

  /**
   * The continuation event for `data`: its id derived from the request's (`source`, `id`) and the
   * page (the same page, the same event: a second send is a duplicate), its time and tenant the
   * request's.
   */
  eventOf(data: Continuation): SubjectRequestContinuedV1 {
    const { request } = data;
    const id = createHash('sha256')
      .update(`${request.source}|${request.id}|${data.page}`)
      .digest('hex');
    return {
      specversion: '1.0',
      id,
      source: `privacy-ops/${data.operation}`,
      type: SUBJECT_REQUEST_CONTINUED,
      time: request.time,
      tenantid: request.tenantid,
      datacontenttype: 'application/json',
      data,
    };
  }

  /** Sends the continuation to the function's own queue. */
  async send(data: Continuation): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(this.eventOf(data)),
      }),
    );
  }
}

/**
 * What the batch of a function that continues on its own queue is given (`OperationBatch`): the
 * sends and the invocation's context go to `queue`.
 */
export function continuingOn(queue: ContinuationQueue) {
  return {
    continueWith: (next: Continuation) => queue.send(next),
    registerLambdaContext: (context: Context) => queue.registerLambdaContext(context),
  };
}
