import { recordingMetrics, type Emf } from '../support/recording-metrics';
import { SWEEP_METRICS } from '../../shared/operations/sweep-metrics';
import { RetentionSweeper } from '../../shared/operations/retention-sweep';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

/** The waiting-for-closure values of one EMF document, with its namespace. */
function waitingOf(emf: Emf) {
  return {
    namespace: emf._aws.CloudWatchMetrics[0].Namespace,
    count: emf[SWEEP_METRICS.waitingForClosure],
    oldestDays: emf[SWEEP_METRICS.oldestWaitingForClosureDays],
  };
}

const DAY = 86_400_000;

describe('documents waiting for a closure that never comes are counted and aged (local endpoint)', () => {
  let h: OperationsHarness;

  beforeAll(async () => {
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('counts the contracts of open relationships with the age of the oldest, and stops counting them once the account closes', async () => {
    // Prepare: two contracts of a customer who never left (one uploaded 400 days ago), and a
    // contract of a customer who left (scheduled from the closure: not waiting)
    const stays = 'cust-stays-1';
    const left = 'cust-left-1';
    const longAgo = new Date(Date.now() - 400 * DAY).toISOString();
    await h.send(
      await h.upload(stays, 'ctr-old', 'contract', 'old contract', { time: longAgo }),
      await h.upload(stays, 'ctr-new', 'contract', 'new contract'),
      await h.upload(left, 'ctr-left', 'contract', 'left contract'),
    );
    await h.send(
      h.event('privacy.account.closed.v1', { subjectId: left, closedAt: new Date().toISOString() }),
    );
    const waitingItems = await h.items(stays);
    // Act: a sweep while the relationship lasts, then the closure, then another sweep
    const during = recordingMetrics();
    await new RetentionSweeper(h.ctx, { metrics: during.metrics }).sweep(h.sweepLog);
    await h.send(
      h.event('privacy.account.closed.v1', {
        subjectId: stays,
        closedAt: new Date().toISOString(),
      }),
    );
    const closedItems = await h.items(stays);
    const after = recordingMetrics();
    await new RetentionSweeper(h.ctx, { metrics: after.metrics }).sweep(h.sweepLog);
    // Assess: the waiting documents are in the sparse index, then leave it
    expect(Object.values(waitingItems).map((i) => [i.state, i.waitingShard])).toEqual([
      ['waiting-anchor', expect.stringMatching(/^W0[0-3]$/)],
      ['waiting-anchor', expect.stringMatching(/^W0[0-3]$/)],
    ]);
    expect(Object.values(closedItems).map((i) => [i.state, i.waitingShard])).toEqual([
      ['active', undefined],
      ['active', undefined],
    ]);
    // Assess: one namespace, the count and the oldest age in whole days, zero once closed
    expect(during.emitted.map(waitingOf)).toEqual([
      { namespace: 'PrivacyOps', count: 2, oldestDays: 400 },
    ]);
    expect(after.emitted.map(waitingOf)).toEqual([
      { namespace: 'PrivacyOps', count: 0, oldestDays: 0 },
    ]);
  });
});
