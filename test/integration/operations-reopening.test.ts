import { startOperationsHarness, type OperationsHarness } from './operations-harness';

describe('closure and reopening: clocks follow the latest relationship (local endpoint)', () => {
  let h: OperationsHarness;

  beforeAll(async () => {
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a customer who left in 2020 and signed again in 2026: the new contract waits for the next closure, then is due from it', async () => {
    // Prepare: a contract of the first relationship, closed in 2020
    const who = 'cust-reopen-1';
    const subject = await h.pseudonym(who);
    await h.send(await h.upload(who, 'ctr-2019', 'contract', 'first contract'));
    await h.send(
      h.event('privacy.account.closed.v1', { subjectId: who, closedAt: '2020-06-30T00:00:00Z' }),
    );
    // Act: the relationship starts again in 2026; a new contract is uploaded
    await h.send(
      h.event('privacy.account.reopened.v1', {
        subjectId: who,
        reopenedAt: '2026-01-15T00:00:00Z',
      }),
    );
    await h.send(await h.upload(who, 'ctr-2026', 'contract', 'second contract'));
    const reopened = await h.items(who);
    const sweep = await h.sweep(new Date(Date.now() + 60_000).toISOString());
    // Act: the second relationship ends in November 2026
    await h.send(
      h.event('privacy.account.closed.v1', { subjectId: who, closedAt: '2026-11-30T00:00:00Z' }),
    );
    const closedAgain = await h.items(who);
    const logs = (await h.logs()).filter((r) => r.subject === subject);
    // Assess: the new contract is not due from the 2020 closure (it would be deleted at once)
    expect(reopened['ctr-2026']).toMatchObject({ state: 'waiting-anchor' });
    expect(reopened['ctr-2026'].dueAt).toBeUndefined();
    expect(sweep.expired).toBe(1); // the first contract, due in 2025
    expect(closedAgain['ctr-2026'].dueAt).toBe('2031-11-30T00:00:00.000Z');
    expect(logs.some((r) => r.eventType === 'privacy.account.reopened.v1')).toBe(true);
  });

  it('flags in the log a document that is already due when stored', async () => {
    // Prepare: an account closed long ago
    const who = 'cust-reopen-2';
    const subject = await h.pseudonym(who);
    await h.send(
      h.event('privacy.account.closed.v1', { subjectId: who, closedAt: '2010-01-01T00:00:00Z' }),
    );
    // Act
    await h.send(await h.upload(who, 'ctr-late', 'contract', 'late contract'));
    const stored = (await h.logs()).find(
      (r) => r.subject === subject && r.operation === 'stored' && r.outcome === 'success',
    );
    // Assess
    expect(stored?.reason).toContain('retention-ended-before-upload');
  });
});
