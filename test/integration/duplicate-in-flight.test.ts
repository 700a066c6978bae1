import { registerClientPlugin } from '../../shared/aws/client-config';
import { CallGate } from '../support/call-gate';
import { FaultInjector } from '../support/fault-injector';
import { attempt, freshInstance, sqsEvent } from './crash-harness';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

jest.setTimeout(300_000);

/**
 * A duplicate delivery of an operation event running in another instance while the first
 * delivery has stored its result but not yet written its log object (written at the end of its
 * batch): the duplicate must not take the result's records for lost and log them again.
 */
describe('a duplicate delivery beside its first delivery', () => {
  const injector = new FaultInjector();
  const gate = new CallGate();
  let unregister: Array<() => void>;
  let h: OperationsHarness;

  beforeAll(async () => {
    unregister = [registerClientPlugin(injector), registerClientPlugin(gate)];
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
    for (const undo of unregister ?? []) undo();
  });

  it('logs the erasure once when the duplicate runs while the first log write is in flight', async () => {
    // Prepare: an erasure, its first delivery held before its log object is written
    const who = 'duplicate-in-flight';
    const body = h.event('privacy.erasure.requested.v1', {
      subjectId: who,
      requestId: `req-${who}`,
      receivedAt: new Date().toISOString(),
    });
    const event = sqsEvent(`${who}-1`, body);
    const logBucket = h.outputs.LogBucketName;
    const pause = gate.pauseAt(
      (c) => c.scope === 'first' && c.operation === 'PutObject' && c.input.Bucket === logBucket,
      1,
    );
    const first = attempt(
      injector,
      freshInstance(h.pipeline, 'erasure-request', () => new Date()),
      event,
      undefined,
      'first',
    );
    const reached = await Promise.race([pause.reached.then(() => true), first.then(() => false)]);
    expect(reached).toBe(true);
    // Act: the duplicate, in another instance, then the first delivery's log write
    const duplicate = freshInstance(h.pipeline, 'erasure-request', () => new Date());
    let second = await attempt(injector, duplicate, event, undefined, 'second');
    pause.release();
    expect((await first).failed).toBe(false);
    for (let retry = 0; second.failed && retry < 3; retry += 1)
      second = await attempt(injector, duplicate, event, undefined, 'second');
    // Assess: one record of each kind for the event
    const records = (await h.logs()).filter((r) => r.eventId === (body as { id: string }).id);
    expect(records.map((r) => r.operation).sort()).toEqual(['received', 'request-completed']);
  });
});
