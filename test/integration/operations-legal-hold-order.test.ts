import { vaultRefOf } from '../../shared/retention/retention-items';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

/** Every order of a list. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('legal holds are order-independent and every deletion path checks them (local endpoint)', () => {
  let h: OperationsHarness;

  beforeAll(async () => {
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('compares placements and releases by event time, whatever order they arrive in', async () => {
    // Prepare: hold A placed then released, hold B placed after; every delivery order
    const orders = permutations(['place-a', 'release-a', 'place-b'] as const);
    const results: Record<string, string[]> = {};
    for (const [n, order] of orders.entries()) {
      const who = `emp-hold-order-${n}`;
      const events = {
        'place-a': h.event(
          'privacy.legal-hold.placed.v1',
          { subjectId: who, holdId: 'hold-a', reason: 'litigation' },
          '2026-06-01T10:00:00Z',
        ),
        'release-a': h.event(
          'privacy.legal-hold.released.v1',
          { subjectId: who, holdId: 'hold-a', reason: 'settled' },
          '2026-06-02T10:00:00Z',
        ),
        'place-b': h.event(
          'privacy.legal-hold.placed.v1',
          { subjectId: who, holdId: 'hold-b', reason: 'audit' },
          '2026-06-03T10:00:00Z',
        ),
      };
      // Act
      for (const step of order) await h.send(events[step]);
      const record = await h.ctx.store.getSubject('acme-sas', await h.pseudonym(who));
      results[order.join(',')] = record.holds ?? [];
    }
    // Assess: only hold B (kept as its keyed pseudonym) is active, in every order
    const holdB = await h.ctx.pseudonyms.hold('acme-sas', 'hold-b');
    expect(Object.values(results)).toHaveLength(6);
    for (const [order, holds] of Object.entries(results))
      expect({ order, holds }).toEqual({ order, holds: [holdB] });
    // six deliveries through the pipeline, each ~5 s on a quiet machine
  }, 300_000);

  it('a release that arrives before its placement leaves no hold: what is due expires', async () => {
    // Prepare: a payslip already due
    const who = 'emp-hold-early-release';
    await h.send(
      await h.upload(who, 'pay-e', 'payroll-document', 'payslip', { documentDate: '2019-01-31' }),
    );
    // Act: the release (later event time) is delivered first
    await h.send(
      h.event(
        'privacy.legal-hold.released.v1',
        { subjectId: who, holdId: 'hold-e', reason: 'settled' },
        new Date(Date.now() - 1_000).toISOString(),
      ),
    );
    await h.send(
      h.event(
        'privacy.legal-hold.placed.v1',
        { subjectId: who, holdId: 'hold-e', reason: 'litigation' },
        new Date(Date.now() - 60_000).toISOString(),
      ),
    );
    const items = await h.items(who);
    const swept = await h.sweep(new Date(Date.now() + 60_000).toISOString());
    // Assess
    expect(items['pay-e'].state).not.toBe('held');
    expect(swept.expired).toBe(1);
    expect(await h.items(who)).toEqual({});
  });

  it('an upload older than an erasure, arriving under a hold, is kept (held, erased after the release) instead of deleted', async () => {
    // Prepare: a hold, then an erasure; an older case-document upload arrives after both
    const who = 'emp-hold-late-upload';
    const older = await h.upload(who, 'case-late', 'case-document', 'late case', {
      time: new Date(Date.now() - 60_000).toISOString(),
    });
    await h.send(
      h.event('privacy.legal-hold.placed.v1', {
        subjectId: who,
        holdId: 'hold-u',
        reason: 'litigation',
      }),
    );
    await h.send(
      h.event('privacy.erasure.requested.v1', {
        subjectId: who,
        requestId: 'req-hold-late',
        receivedAt: new Date().toISOString(),
      }),
    );
    // Act
    await h.send(older);
    const items = await h.items(who);
    // Assess: stored under the hold, marked for the erasure, readable
    expect(items['case-late']).toMatchObject({
      state: 'held',
      erasurePending: await h.ctx.pseudonyms.request('acme-sas', 'req-hold-late'),
    });
    expect(await h.ctx.vault.get(vaultRefOf(items['case-late']))).toEqual(
      new Uint8Array(Buffer.from('late case')),
    );
    // Act: release, then sweep: the deferred erasure runs
    await h.send(
      h.event('privacy.legal-hold.released.v1', {
        subjectId: who,
        holdId: 'hold-u',
        reason: 'settled',
      }),
    );
    await h.sweep(new Date(Date.now() + 60_000).toISOString());
    expect(await h.items(who)).toEqual({});
  });

  it('an erasure deferred by a hold leaves a document sent after it and stored before it: not marked, kept readable after the release', async () => {
    // Prepare: a hold; a case document sent before the erasure; one sent after it, stored first
    const who = 'emp-hold-later-upload';
    await h.send(
      h.event('privacy.legal-hold.placed.v1', {
        subjectId: who,
        holdId: 'hold-l',
        reason: 'audit',
      }),
    );
    await h.send(await h.upload(who, 'case-before', 'case-document', 'before'));
    // Act: the erasure (deferred by the hold), the release, the sweep that runs the erasure
    await h.erasureAfterLaterUpload(who, 'case-after', 'after', 'req-hold-later');
    const deferred = await h.items(who);
    await h.send(
      h.event('privacy.legal-hold.released.v1', {
        subjectId: who,
        holdId: 'hold-l',
        reason: 'done',
      }),
    );
    await h.sweep(new Date(Date.now() + 60_000).toISOString());
    const items = await h.items(who);
    // Assess: only the document sent before the erasure was marked, and only it is gone
    expect(deferred['case-before']?.erasurePending).toBeDefined();
    expect(deferred['case-after']?.erasurePending).toBeUndefined();
    expect(Object.keys(items)).toEqual(['case-after']);
    expect(await h.ctx.vault.get(vaultRefOf(items['case-after']))).toEqual(
      new Uint8Array(Buffer.from('after')),
    );
  });
});
