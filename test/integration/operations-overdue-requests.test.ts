import { recordingMetrics, type Emf } from '../support/recording-metrics';
import { SWEEP_METRICS } from '../../shared/operations/sweep-metrics';
import { RetentionSweeper } from '../../shared/operations/retention-sweep';
import { subjectKey } from '../../shared/retention/retention-items';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

/** The `OverdueRequests` value of one EMF document, with its namespace and service dimension. */
function overdueOf(emf: Emf) {
  const directive = emf._aws.CloudWatchMetrics[0];
  return {
    namespace: directive.Namespace,
    dimensions: directive.Dimensions,
    service: emf.service,
    value: emf[SWEEP_METRICS.overdueRequests],
  };
}

describe('overdue requests: open requests past their deadline are counted and alarmed (local endpoint)', () => {
  let h: OperationsHarness;

  beforeAll(async () => {
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('counts an erasure a legal hold keeps open past its one-month deadline, and stops counting it once the release lets the sweep erase and complete it', async () => {
    // Prepare: a case document (erasure deletes it) under a legal hold; an erasure received 40
    // days ago; and a late access request of another subject, completed at once (not open)
    const who = 'emp-overdue-1';
    const receivedAt = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await h.send(await h.upload(who, 'case-o', 'case-document', 'case'));
    await h.send(
      h.event('privacy.legal-hold.placed.v1', {
        subjectId: who,
        holdId: 'hold-o',
        reason: 'litigation',
      }),
    );
    await h.send(
      h.event('privacy.erasure.requested.v1', { subjectId: who, requestId: 'req-o', receivedAt }),
      h.event('privacy.access.requested.v1', {
        subjectId: 'emp-overdue-2',
        requestId: 'req-late-access',
        receivedAt,
      }),
    );
    const pk = subjectKey('acme-sas', await h.pseudonym(who));
    const subject = await h.pseudonym(who);
    const requestRef = await h.ctx.pseudonyms.request('acme-sas', 'req-o');
    const held = await h.ctx.store.getRequest(pk, requestRef);
    // Act: a sweep with the real clock during the hold
    const during = recordingMetrics();
    const heldSweep = await new RetentionSweeper(h.ctx, { metrics: during.metrics }).sweep(
      h.sweepLog,
    );
    const logsDuring = (await h.logs()).filter((r) => r.requestId === requestRef);
    // Act: release, then a sweep with the real clock erases and completes
    await h.send(
      h.event('privacy.legal-hold.released.v1', {
        subjectId: who,
        holdId: 'hold-o',
        reason: 'settled',
      }),
    );
    // The release makes what it held due at the release time, rounded up to the next second
    // (expiresAt is in whole seconds and never early): let that second pass before sweeping.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const after = recordingMetrics();
    const releaseSweep = await new RetentionSweeper(h.ctx, { metrics: after.metrics }).sweep(
      h.sweepLog,
    );
    const completed = await h.ctx.store.getRequest(pk, requestRef);
    const logsAfter = (await h.logs()).filter((r) => r.requestId === requestRef);
    // Assess: while held the request is open (indexed, not completed) and overdue
    expect(held).toMatchObject({ outcome: 'deferred-by-legal-hold', tenant: 'acme-sas', subject });
    expect(held?.completedAt).toBeUndefined();
    expect(held?.openRequestShard).toMatch(/^R0[0-3]$/);
    expect(held!.deadline < new Date().toISOString()).toBe(true);
    expect(heldSweep).toMatchObject({ openRequests: 1, overdueRequests: 1, completedRequests: 0 });
    expect(during.emitted.map(overdueOf)).toEqual([
      {
        namespace: SWEEP_METRICS.namespace,
        dimensions: [['service']],
        service: SWEEP_METRICS.service,
        value: 1,
      },
    ]);
    expect(logsDuring.map((r) => `${r.operation}/${r.outcome}`).sort()).toEqual([
      'erased/skipped',
      'received/success',
    ]);
    // Assess: after release the sweep erased the document, completed the request (late), and
    // emitted zero (so the alarm has data and returns to OK)
    expect(releaseSweep).toMatchObject({
      expired: 1,
      openRequests: 0,
      overdueRequests: 0,
      completedRequests: 1,
    });
    expect(after.emitted.map((e) => overdueOf(e).value)).toEqual([0]);
    expect(await h.items(who)).toEqual({});
    expect(completed).toMatchObject({ outcome: 'erased-after-legal-hold' });
    expect(completed?.completedAt).toBeDefined();
    expect(completed?.openRequestShard).toBeUndefined();
    expect(
      logsAfter
        .filter((r) => r.operation === 'request-completed')
        .map((r) => [r.outcome, r.reason, r.deadline]),
    ).toEqual([['success', 'erased-after-legal-hold;late', held!.deadline]]);
  });
});
