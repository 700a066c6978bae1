import {
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import {
  chunkForBatch,
  EventProducer,
  InvalidEventError,
  MAX_BATCH_BYTES,
  MAX_EVENT_BYTES,
  validateEvent,
} from '../../events';
import { exampleEvents } from '../../events/examples';

const QUEUE = 'https://sqs.eu-west-3.amazonaws.com/000000000000/ingress';

/** An SQS client whose `send` records the commands and answers with `answer`. */
function recordingClient(answer: (input: SendMessageBatchCommandInput) => unknown = okAll) {
  const sent: unknown[] = [];
  const client = new SQSClient({ region: 'eu-west-3' });
  client.send = jest.fn(async (command: unknown) => {
    sent.push(command);
    if (command instanceof SendMessageBatchCommand) return answer(command.input);
    if (command instanceof SendMessageCommand) return { MessageId: 'm-1' };
    throw new Error('unexpected command');
  }) as never;
  return { client, sent };
}

function okAll(input: SendMessageBatchCommandInput) {
  return { Successful: input.Entries!.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })) };
}

const upload = exampleEvents()['privacy.document.uploaded.v1'];
const manyUploads = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ ...upload, id: `evt-${i}` }));

describe('EventProducer', () => {
  it('sends one valid event with the type and tenant attributes, body unchanged', async () => {
    // Prepare
    const { client, sent } = recordingClient();
    const producer = new EventProducer(QUEUE, client);
    // Act
    const messageId = await producer.send(upload);
    // Assess
    const input = (sent[0] as SendMessageCommand).input;
    expect(messageId).toBe('m-1');
    expect(JSON.parse(input.MessageBody!)).toEqual(upload);
    expect(input.MessageAttributes).toEqual({
      type: { DataType: 'String', StringValue: 'privacy.document.uploaded.v1' },
      tenant: { DataType: 'String', StringValue: 'acme-sas' },
    });
  });

  it('refuses an invalid event before sending, with the reason the intake would give', async () => {
    // Prepare
    const { client, sent } = recordingClient();
    const producer = new EventProducer(QUEUE, client);
    // Act
    const attempt = producer.send({ ...upload, type: 'privacy.document.uploaded.v2' });
    // Assess
    await expect(attempt).rejects.toThrow(InvalidEventError);
    await expect(attempt).rejects.toMatchObject({ reason: 'unknown-type' });
    expect(sent).toHaveLength(0);
  });

  it('sends 23 events in calls of at most ten and lists the invalid ones as failed', async () => {
    // Prepare
    const { client, sent } = recordingClient();
    const producer = new EventProducer(QUEUE, client);
    const events: unknown[] = manyUploads(23);
    events[5] = { ...upload, id: 'bad', data: { ...upload.data, subjectId: 'has space' } };
    // Act
    const result = await producer.sendBatch(events);
    // Assess
    const sizes = sent.map((c) => (c as SendMessageBatchCommand).input.Entries!.length);
    expect(sizes).toEqual([10, 10, 2]);
    expect(result.sent).toHaveLength(22);
    expect(result.failed).toEqual([
      expect.objectContaining({
        index: 5,
        eventId: 'bad',
        code: 'invalid-event',
        message: 'invalid-field:data.subjectId',
        retryable: false,
      }),
    ]);
  });

  it('reports per-entry failures from SQS and a failed call for all its entries', async () => {
    // Prepare
    let call = 0;
    const { client } = recordingClient((input) => {
      call += 1;
      if (call === 2)
        throw Object.assign(new Error('throttled'), {
          name: 'ThrottlingException',
          $retryable: {},
        });
      const [first, ...rest] = input.Entries!;
      return {
        Successful: rest.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
        Failed: [{ Id: first.Id, Code: 'InternalError', SenderFault: false, Message: 'x' }],
      };
    });
    const producer = new EventProducer(QUEUE, client);
    // Act
    const result = await producer.sendBatch(manyUploads(12));
    // Assess
    expect(result.sent.map((s) => s.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(result.failed.map((f) => [f.index, f.code, f.retryable])).toEqual([
      [0, 'InternalError', true],
      [10, 'ThrottlingException', true],
      [11, 'ThrottlingException', true],
    ]);
  });

  it('refuses an event larger than MAX_EVENT_BYTES as oversize', () => {
    // Prepare
    const big = { ...upload, padding: 'x'.repeat(MAX_EVENT_BYTES) };
    // Act
    const attempt = () => validateEvent(big);
    // Assess
    expect(attempt).toThrow(expect.objectContaining({ reason: 'oversize' }));
  });
});

describe('chunkForBatch', () => {
  it('cuts at ten entries and at the batch payload limit, keeping order', () => {
    // Prepare
    const items = Array.from({ length: 25 }, (_, i) => i);
    const big = Array.from({ length: 6 }, (_, i) => i);
    // Act
    const byCount = chunkForBatch(items, () => 1);
    const bySize = chunkForBatch(big, () => Math.floor(MAX_BATCH_BYTES / 4));
    // Assess
    expect(byCount.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(byCount.flat()).toEqual(items);
    expect(bySize.map((c) => c.length)).toEqual([4, 2]);
  });
});
