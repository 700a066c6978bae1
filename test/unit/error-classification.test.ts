import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asPermanent, isTransient, PermanentError, TransientError } from '../../shared/errors';

const HTML_PAGE = {
  type: 'text/html',
  body: '<!doctype html><title>Internal Server Error</title>',
};

/** What the SDK's DynamoDB client throws when the endpoint answers `status` with `answer`. */
async function errorOfAnswer(
  status: number,
  answer: { type: string; body: string } = HTML_PAGE,
): Promise<unknown> {
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': answer.type });
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'eu-west-3',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    return await client
      .send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'a' } } }))
      .catch((error: unknown) => error);
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('error classification', () => {
  it('never counts a deterministic JavaScript error as transient, and rejects it with its name', () => {
    // Prepare: what Node throws for a header value with a non-ASCII character
    const header = new TypeError('Invalid character in header content ["x-amz-meta-request-id"]');
    const range = new RangeError('Invalid time value');
    // Act
    const transient = [isTransient(header), isTransient(range)];
    const permanent = asPermanent(header);
    // Assess
    expect(transient).toEqual([false, false]);
    expect(permanent).toBeInstanceOf(PermanentError);
    expect(permanent?.reason).toBe('unprocessable:TypeError');
    expect(permanent?.message).not.toContain('x-amz-meta');
  });

  it('keeps network, throttling and unknown errors transient, and ours as they say', () => {
    // Prepare
    const reset = Object.assign(new TypeError('socket hang up'), { code: 'ECONNRESET' });
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    const unknown = new Error('something');
    // Act
    const results = [reset, throttled, unknown].map((e) => [isTransient(e), asPermanent(e)]);
    // Assess
    expect(results).toEqual([
      [true, undefined],
      [true, undefined],
      [true, undefined],
    ]);
    expect(asPermanent(new TransientError('t', 'x'))).toBeUndefined();
    expect(asPermanent(new PermanentError('p', 'x'))?.reason).toBe('p');
  });

  it('keeps an answer the SDK could not parse transient: the answer was bad, not the event', async () => {
    // Prepare: a 500 and a 200 whose bodies are HTML, not the service's JSON; and a service error
    const conditionFailed = {
      type: 'application/x-amz-json-1.0',
      body: JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        message: 'The conditional request failed',
      }),
    };
    const errors = [
      await errorOfAnswer(500),
      await errorOfAnswer(200),
      await errorOfAnswer(400, conditionFailed),
    ];
    // Act
    const results = errors.map((e) => [(e as Error).name, isTransient(e), asPermanent(e)]);
    // Assess
    expect(results).toEqual([
      ['SyntaxError', true, undefined],
      ['SyntaxError', true, undefined],
      ['ConditionalCheckFailedException', false, undefined],
    ]);
  });
});
