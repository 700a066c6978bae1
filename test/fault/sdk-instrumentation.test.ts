import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { localClientOptions } from '../../local/client-options';
import { SdkCallCounter } from '../support/call-counter';
import { InjectedCrashError, inScope } from '../support/call-scopes';
import { FaultInjector, type FaultKind } from '../support/fault-injector';
import { seededRandom } from '../support/prng';

const endpoint = () => {
  const url = process.env.PRIVACY_OPS_TEST_ENDPOINT;
  if (!url) throw new Error('needs the global setup (jest --selectProjects fault)');
  return url;
};

/** A client and a call of it that has no side effect. */
interface Probe {
  readonly client: { middlewareStack: S3Client['middlewareStack']; destroy(): void };
  readonly command: () => unknown;
  readonly send: () => Promise<unknown>;
}

const probe = <C extends { send(c: never): Promise<unknown> }>(
  client: C,
  command: () => unknown,
): Probe => ({
  client: client as unknown as Probe['client'],
  command,
  send: () => client.send(command() as never),
});

/** One client of each protocol family, with a call that has no side effect. */
function clients(maxAttempts: number) {
  const options = { ...localClientOptions(endpoint()), maxAttempts };
  return {
    S3: probe(new S3Client(options), () => new ListBucketsCommand({})),
    DynamoDB: probe(new DynamoDBClient(options), () => new ListTablesCommand({})),
    KMS: probe(new KMSClient(options), () => new ListKeysCommand({})),
    SQS: probe(new SQSClient(options), () => new ListQueuesCommand({})),
  };
}

type Service = keyof ReturnType<typeof clients>;
const SERVICES: Service[] = ['S3', 'DynamoDB', 'KMS', 'SQS'];
const KINDS: FaultKind[] = ['throttling', 'server-error', 'timeout'];
const OPERATION: Record<Service, string> = {
  S3: 'S3.ListBuckets',
  DynamoDB: 'DynamoDB.ListTables',
  KMS: 'KMS.ListKeys',
  SQS: 'SQS.ListQueues',
};
const EXPECTED_ERROR: Record<Service, Record<FaultKind, string>> = {
  S3: { throttling: 'SlowDown', 'server-error': 'InternalError', timeout: 'TimeoutError' },
  DynamoDB: {
    throttling: 'ProvisionedThroughputExceededException',
    'server-error': 'InternalFailure',
    timeout: 'TimeoutError',
  },
  KMS: {
    throttling: 'ThrottlingException',
    'server-error': 'InternalFailure',
    timeout: 'TimeoutError',
  },
  SQS: {
    throttling: 'ThrottlingException',
    'server-error': 'InternalFailure',
    timeout: 'TimeoutError',
  },
};

describe('SDK instrumentation: counter and fault injector on real clients against the local endpoint', () => {
  it('seeds a deterministic PRNG', () => {
    // Prepare
    const a = seededRandom(42);
    const b = seededRandom(42);
    // Act
    const first = [a(), a(), a()];
    const second = [b(), b(), b()];
    // Assess
    expect(first).toEqual(second);
    expect(new Set(first).size).toBe(3);
  });

  describe.each(SERVICES)('%s', (service) => {
    it.each(KINDS)(
      'a %s fault on the first attempt is retried by the SDK: the call succeeds and 2 attempts are counted',
      async (kind) => {
        // Prepare
        const { client, send } = clients(3)[service];
        const counter = new SdkCallCounter();
        const injector = new FaultInjector({ appliesTo: () => true, counter });
        client.middlewareStack.use(counter);
        client.middlewareStack.use(injector);
        injector.failNext(1, kind);
        // Act
        await send();
        // Assess
        const count = counter.snapshot().unscoped[OPERATION[service]];
        expect(count.calls).toBe(1);
        expect(count.attempts).toBe(2);
        expect(count.injectedBeforeCall).toBe(1);
        expect(count.failedCalls).toBe(0);
        expect(injector.stats.byKind[kind]).toBe(1);
        client.destroy();
      },
    );

    it.each(KINDS)(
      'a %s fault surfaces as the service error the SDK classifies as retryable',
      async (kind) => {
        // Prepare
        const { client, send } = clients(1)[service];
        const injector = new FaultInjector({ appliesTo: () => true });
        client.middlewareStack.use(injector);
        injector.failNext(1, kind);
        // Act
        const error = (await send().catch((e: unknown) => e)) as {
          name: string;
          $metadata?: { httpStatusCode?: number };
        };
        // Assess
        expect(error.name).toBe(EXPECTED_ERROR[service][kind]);
        if (kind !== 'timeout')
          expect(error.$metadata?.httpStatusCode).toBe(
            kind === 'throttling' ? (service === 'S3' ? 503 : 400) : 500,
          );
        client.destroy();
      },
    );
  });

  it('a fault after the real call makes a non-idempotent effect happen twice (SQS SendMessage)', async () => {
    // Prepare
    const client = new SQSClient(localClientOptions(endpoint()));
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: `fault-after-${Date.now()}` }),
    );
    const counter = new SdkCallCounter();
    const injector = new FaultInjector({ appliesTo: () => true, counter });
    client.middlewareStack.use(counter);
    client.middlewareStack.use(injector);
    injector.failNext(1, 'server-error', 'after', (c) => c.operation === 'SendMessage');
    // Act
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'once' }));
    // Assess
    const attributes = await client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Number(attributes.Attributes?.ApproximateNumberOfMessages)).toBe(2);
    expect(counter.snapshot().unscoped['SQS.SendMessage']).toMatchObject({
      calls: 1,
      attempts: 2,
      injectedBeforeCall: 0,
    });
    expect(injector.stats.byTiming.after).toBe(1);
    client.destroy();
  });

  it('random faults at p = 0.5 are retried, counted per attempt, and follow the seed', async () => {
    // Prepare
    const run = async () => {
      const { client, send } = clients(10).DynamoDB;
      const counter = new SdkCallCounter();
      const injector = new FaultInjector({
        appliesTo: () => true,
        probability: 0.5,
        seed: 3,
        counter,
      });
      client.middlewareStack.use(counter);
      client.middlewareStack.use(injector);
      for (let i = 0; i < 10; i += 1) await send();
      client.destroy();
      return {
        count: counter.snapshot().unscoped['DynamoDB.ListTables'],
        injected: injector.stats.injected,
      };
    };
    // Act
    const first = await run();
    const second = await run();
    // Assess
    expect(first.count.calls).toBe(10);
    expect(first.count.failedCalls).toBe(0);
    expect(first.injected).toBeGreaterThan(0);
    expect(first.count.attempts).toBe(10 + first.injected);
    expect(second.injected).toBe(first.injected);
  }, 60_000);

  it('a crash trigger kills the invocation at the nth matching call and every call after it', async () => {
    // Prepare
    const { client, send } = clients(3).SQS;
    const injector = new FaultInjector();
    client.middlewareStack.use(injector);
    injector.crashOnce({ match: (c) => c.operation === 'ListQueues', nth: 2 });
    // Act
    const outcomes = await inScope('some-function', async () => {
      const results: string[] = [];
      for (let i = 0; i < 3; i += 1)
        results.push(
          await send().then(
            () => 'ok',
            (e: Error) => e.name,
          ),
        );
      return results;
    });
    const afterwards = await inScope('some-function', () => send().then(() => 'ok'));
    // Assess
    expect(outcomes).toEqual(['ok', InjectedCrashError.name, InjectedCrashError.name]);
    expect(afterwards).toBe('ok');
    expect(injector.stats.crashes).toBe(1);
    client.destroy();
  });
});
