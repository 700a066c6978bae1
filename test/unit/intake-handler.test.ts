import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { exampleEvents } from '../../events/examples';
import { OperationForwarder, type OperationRoutes } from '../../shared/intake/forwarder';
import { IN_QUEUE_ORDER } from '../../shared/batch/batch-invocation';
import { IntakeBatch } from '../../shared/intake/intake-batch';
import type { Rejector } from '../../shared/batch/rejector';
import { loadProducerRegistry } from '../../shared/intake/producer-registry';
import { decideIngressRecord } from '../../shared/intake/validate';
import type { ProcessingLogWriter } from '../../shared/processing-log/writer';

const BUCKET = 'po1234-upload';
const examples = exampleEvents(BUCKET);
const routes: OperationRoutes = {
  'privacy.document.uploaded.v1': 'q-upload',
  'privacy.account.closed.v1': 'q-closure',
  'privacy.account.reopened.v1': 'q-closure',
  'privacy.erasure.requested.v1': 'q-erasure',
  'privacy.access.requested.v1': 'q-access',
  'privacy.legal-hold.placed.v1': 'q-hold',
  'privacy.legal-hold.released.v1': 'q-hold',
};
const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

const SENDER = 'AIDAEXAMPLESENDER001';
const producers = loadProducerRegistry({
  version: 1,
  producers: {
    everything: {
      principal: 'arn:aws:iam::111122223333:user/everything',
      senderId: SENDER,
      sources: '*',
      tenants: '*',
      types: '*',
    },
  },
});
const recordOf = (body: string, i: number): SQSRecord =>
  ({
    messageId: `msg-${i}`,
    body,
    messageAttributes: {},
    attributes: { SenderId: SENDER },
  }) as unknown as SQSRecord;
const eventOf = (bodies: string[]): SQSEvent => ({ Records: bodies.map(recordOf) });
const upload = (i: number) =>
  JSON.stringify({ ...examples['privacy.document.uploaded.v1'], id: `u-${i}` });

/** Fakes around the handler: SQS (SendMessageBatch), rejector and log writer. */
function fakes(
  options: {
    failSend?: (queue: string, ids: string[]) => unknown;
    rejectError?: Error;
    flushError?: Error;
  } = {},
) {
  const batches: Array<{ queue: string; ids: string[] }> = [];
  const sqs = new SQSClient({ region: 'eu-west-3' });
  sqs.send = jest.fn(async (command: unknown) => {
    const input = (command as SendMessageBatchCommand).input;
    const ids = input.Entries!.map((e) => (JSON.parse(e.MessageBody!) as { id: string }).id);
    batches.push({ queue: input.QueueUrl!, ids });
    const answer = options.failSend?.(input.QueueUrl!, ids);
    if (answer instanceof Error) throw answer;
    return answer ?? { Successful: input.Entries!.map((e) => ({ Id: e.Id, MessageId: 'x' })) };
  }) as never;
  const rejected: string[] = [];
  const rejector = {
    registerLambdaContext: () => undefined,
    reject: jest.fn(async (record: SQSRecord, error: { reason: string }) => {
      if (options.rejectError) throw options.rejectError;
      rejected.push(`${record.messageId}:${error.reason}`);
      return { deadLettered: true, logged: true };
    }),
  } as unknown as Rejector;
  const log = {
    begin: jest.fn(() => 'key'),
    flush: jest.fn(async () => {
      if (options.flushError) throw options.flushError;
      return 'key';
    }),
    discard: jest.fn(),
  } as unknown as ProcessingLogWriter;
  const intake = new IntakeBatch({
    forwarder: new OperationForwarder(sqs, routes),
    rejector,
    log,
    logger: new Logger({ logLevel: 'SILENT' }),
  });
  // The intake function's record handler and handler (functions/intake.ts), over these fakes.
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const decision = decideIngressRecord(record.body, record.attributes.SenderId, {
      uploadBucket: BUCKET,
      producers,
    });
    if (decision.ok) intake.accept(record, decision.event);
    else await intake.reject(record, decision);
  };
  const handler = intake.handler((event, ctx) =>
    processPartialResponse(event, recordHandler, processor, { context: ctx, ...IN_QUEUE_ORDER }),
  );
  return { handler, batches, rejected, log };
}

describe('intake handler', () => {
  it('forwards nine valid events in one batch call and rejects the invalid one', async () => {
    // Prepare
    const { handler, batches, rejected } = fakes();
    const bodies = Array.from({ length: 10 }, (_, i) => (i === 4 ? '{not json' : upload(i)));
    // Act
    const response = await handler(eventOf(bodies), context);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(batches).toEqual([
      { queue: 'q-upload', ids: ['u-0', 'u-1', 'u-2', 'u-3', 'u-5', 'u-6', 'u-7', 'u-8', 'u-9'] },
    ]);
    expect(rejected).toEqual(['msg-4:invalid-json']);
  });

  it('groups by operation queue, legal holds placed and released together, in arrival order', async () => {
    // Prepare
    const { handler, batches } = fakes();
    const bodies = [
      JSON.stringify(examples['privacy.legal-hold.placed.v1']),
      upload(1),
      JSON.stringify(examples['privacy.legal-hold.released.v1']),
      JSON.stringify(examples['privacy.erasure.requested.v1']),
    ];
    // Act
    await handler(eventOf(bodies), context);
    // Assess
    expect(batches).toEqual([
      { queue: 'q-hold', ids: ['hold-0001', 'hold-0002'] },
      { queue: 'q-upload', ids: ['u-1'] },
      { queue: 'q-erasure', ids: ['erasure-0001'] },
    ]);
  });

  it('reports entries SQS refused, and every entry of a throttled call, as batch item failures', async () => {
    // Prepare
    const { handler } = fakes({
      failSend: (queue) =>
        queue === 'q-upload'
          ? {
              Successful: [{ Id: '1', MessageId: 'x' }],
              Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }],
            }
          : Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
    });
    const bodies = [upload(0), upload(1), JSON.stringify(examples['privacy.account.closed.v1'])];
    // Act
    const response = await handler(eventOf(bodies), context);
    // Assess
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['msg-0', 'msg-2']);
  });

  it('reports a rejection that failed transiently as a batch item failure, and goes on', async () => {
    // Prepare
    const throttled = Object.assign(new Error('throttled'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    const { handler, batches } = fakes({ rejectError: throttled });
    const bodies = [upload(0), '[]', upload(2)];
    // Act
    const response = await handler(eventOf(bodies), context);
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(batches[0].ids).toEqual(['u-0', 'u-2']);
  });

  it('reports the rejected records as failed when the log write fails, not the forwarded ones', async () => {
    // Prepare
    const { handler, log } = fakes({
      flushError: Object.assign(new Error('boom'), { name: 'InternalError' }),
    });
    const bodies = [upload(0), 'nope', upload(2), '{}'];
    // Act
    const response = await handler(eventOf(bodies), context);
    // Assess
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['msg-1', 'msg-3']);
    expect(log.discard).toHaveBeenCalled();
  });
});
