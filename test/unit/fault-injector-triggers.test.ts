import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { inScope } from '../support/call-scopes';
import { FaultInjector } from '../support/fault-injector';

// A full garbage collection on demand (the test process is not started with --expose-gc).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** A client whose calls go nowhere: a crash at the first call answers before any request. */
function sqsClient(injector: FaultInjector): SQSClient {
  const client = new SQSClient({
    region: 'eu-west-3',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  client.middlewareStack.use(injector);
  return client;
}

/**
 * Arms a crash at the first call whose trigger closes over an instance-sized object (and nothing
 * else does): `ref` tells whether the object is still reachable.
 */
function armOverInstance(injector: FaultInjector) {
  const instance = { state: new Array<number>(1000).fill(1) };
  const disarm = injector.crashOnce({ match: () => instance.state.length > 0, nth: 1 });
  return { ref: new WeakRef(instance), disarm };
}

/** Whether what `ref` points to is still reachable once the current job is over. */
async function stillReachable(ref: WeakRef<object>): Promise<boolean> {
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  return ref.deref() !== undefined;
}

/**
 * A crash trigger closes over the invocation it kills (a crash-point attempt's trigger reaches its
 * whole function instance): the injector keeps a trigger only while it is armed, so hundreds of
 * crashed instances do not stay in memory for the rest of the test file.
 */
describe('crash triggers are released once they fired or were disarmed', () => {
  it('a fired trigger is no longer reachable from the injector', async () => {
    // Prepare: a trigger closing over an instance-sized object
    const injector = new FaultInjector();
    const client = sqsClient(injector);
    const { ref } = armOverInstance(injector);
    // Act: the trigger fires
    const error = await inScope('an-invocation', () =>
      client.send(new ListQueuesCommand({})).then(
        () => undefined,
        (e: Error) => e.name,
      ),
    );
    // Assert
    expect(error).toBe('InjectedCrashError');
    expect(await stillReachable(ref)).toBe(false);
    client.destroy();
  });

  it('a disarmed trigger never fires and is no longer reachable', async () => {
    // Prepare: a trigger armed, then disarmed before any call
    const injector = new FaultInjector();
    const client = sqsClient(injector);
    const { ref, disarm } = armOverInstance(injector);
    disarm();
    // Act: a call in scope (refused by the closed port, not crashed)
    const error = await inScope('an-invocation', () =>
      client.send(new ListQueuesCommand({})).then(
        () => undefined,
        (e: Error) => e.name,
      ),
    );
    // Assert
    expect(error).not.toBe('InjectedCrashError');
    expect(injector.stats.crashes).toBe(0);
    expect(await stillReachable(ref)).toBe(false);
    client.destroy();
  });
});
