import { vaultRefOf, type DocumentItem } from '../../shared/retention/retention-items';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

/** An ISO instant `hours` from now (the vault objects are written at the real clock). */
const later = (hours: number) => new Date(Date.now() + hours * 3600 * 1000).toISOString();

describe('vault reconciliation: no vault object without a retention item (local endpoint)', () => {
  let h: OperationsHarness;

  beforeAll(async () => {
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** Stores a document, then loses its item as a failed TTL path does (no stream record). */
  async function orphaned(
    who: string,
    documentId: string,
    category: string,
    documentDate: string,
  ): Promise<{ item: DocumentItem; subject: string; prefix: string }> {
    await h.send(await h.upload(who, documentId, category, `${documentId} body`, { documentDate }));
    const item = (await h.items(who))[documentId];
    // TTL removed the item; its stream record never reached the expiry function.
    await h.ctx.store.deleteDocument(item);
    const subject = await h.pseudonym(who);
    return { item, subject, prefix: `acme-sas/${subject}/${category}/${documentId}` };
  }

  const recordsOf = async (subject: string) =>
    (await h.logs()).filter((r: ProcessingLogRecord) => r.subject === subject);

  it('does not touch an object younger than the grace period (an upload may still write its item)', async () => {
    // Prepare: the vault object written, its item not (yet)
    const { subject, prefix } = await orphaned(
      'emp-rec-3',
      'pay-live',
      'payroll-document',
      '2019-01-31',
    );
    // Act: an hour later
    const result = await h.reconcile(later(1), { intervalMs: 0 });
    // Assess
    expect(result.skipped['within-grace']).toBeGreaterThanOrEqual(1);
    expect(await h.versions(h.outputs.VaultBucketName, prefix)).toBe(1);
    expect(await h.items('emp-rec-3')).toEqual({});
    expect((await recordsOf(subject)).filter((r) => r.reason?.includes('reconciliation'))).toEqual(
      [],
    );
  });

  it('leaves a due document whose TTL stream record was lost in the vault for ever without reconciliation; the pass expires it, logged once, its key shredded', async () => {
    // Prepare: a payslip of 2019 (due in 2024), its item removed by TTL, the stream record lost
    const { subject, prefix } = await orphaned(
      'emp-rec-1',
      'pay-2019',
      'payroll-document',
      '2019-01-31',
    );
    // Act: the sweeper alone, a day later and ten years later
    await h.sweep(later(26));
    await h.sweep(later(24 * 3650));
    const afterSweeps = await h.versions(h.outputs.VaultBucketName, prefix);
    // Act: the reconciliation
    const result = await h.reconcile(later(26));
    // Assess: the sweeper never sees it (no item), the reconciliation expires it
    expect(afterSweeps).toBe(1);
    expect(result.orphans).toBeGreaterThanOrEqual(1);
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    expect(await h.versions(h.outputs.VaultBucketName, prefix)).toBe(0);
    expect(await h.ctx.vault.isShredded('acme-sas', subject, 'payroll-document')).toBe(true);
    const records = (await recordsOf(subject)).filter((r) => r.operation !== 'received');
    expect(records.map((r) => `${r.operation}/${r.outcome}:${r.reason}`).sort()).toEqual([
      'expired/success:retention-ended;via-reconciliation',
      'shredded/success:last-document-of-key-class',
      'stored/success:retention-ended-before-upload',
    ]);
  });

  it('rebuilds the lost item of a document not due yet from its object: same schedule and receipt, logged kept with its due date', async () => {
    // Prepare: an invoice kept 10 years from its fiscal year end, its item lost
    const { item, subject } = await orphaned(
      'emp-rec-2',
      'inv-1',
      'accounting-document',
      '2026-03-13',
    );
    // Act
    const result = await h.reconcile(later(30), { intervalMs: 0 });
    const restored = (await h.items('emp-rec-2'))['inv-1'];
    // Assess
    expect(result.restored).toBe(1);
    expect(restored).toMatchObject({
      sk: item.sk,
      state: 'active',
      category: item.category,
      documentDate: item.documentDate,
      dueAt: item.dueAt,
      expiresAt: item.expiresAt,
      expiryShard: item.expiryShard,
      eventKey: item.eventKey,
      payloadHash: item.payloadHash,
      size: item.size,
    });
    expect(await h.ctx.vault.get(vaultRefOf(restored))).toEqual(
      new Uint8Array(Buffer.from('inv-1 body')),
    );
    const kept = (await recordsOf(subject)).filter((r) => r.outcome === 'kept');
    expect(kept).toEqual([
      expect.objectContaining({
        operation: 'stored',
        document: item.document,
        retainUntil: item.dueAt,
        reason: 'vault-object-without-item;retention-item-restored',
      }),
    ]);
  });

  it('keeps a due document under a legal hold: its item comes back held, without a schedule', async () => {
    // Prepare: a due payslip, a hold, the item lost
    const who = 'emp-rec-4';
    await h.send(
      h.event('privacy.legal-hold.placed.v1', { subjectId: who, holdId: 'h-rec', reason: 'audit' }),
    );
    const { subject, prefix } = await orphaned(who, 'pay-held', 'payroll-document', '2019-01-31');
    // Act
    await h.reconcile(later(34), { intervalMs: 0 });
    const restored = (await h.items(who))['pay-held'];
    // Assess
    expect(restored).toMatchObject({ state: 'held', held: true });
    expect(restored.expiresAt).toBeUndefined();
    expect(await h.versions(h.outputs.VaultBucketName, prefix)).toBe(1);
    const kept = (await recordsOf(subject)).filter((r) => r.outcome === 'kept');
    expect(kept.map((r) => r.reason)).toEqual([
      'vault-object-without-item;retention-item-restored;legal-hold',
    ]);
  });

  it('deletes every version of an object whose subject key is destroyed, logged once however often the pass runs', async () => {
    // Prepare: a case document, its item lost, its key shredded (an erasure that missed it)
    const { subject, prefix } = await orphaned(
      'emp-rec-5',
      'case-x',
      'case-document',
      '2026-01-01',
    );
    await h.ctx.vault.shred('acme-sas', subject, ['case-document']);
    // Act: three passes
    await h.reconcile(later(38), { intervalMs: 0 });
    await h.reconcile(later(62), { intervalMs: 0 });
    await h.reconcile(later(86), { intervalMs: 0 });
    // Assess
    expect(await h.versions(h.outputs.VaultBucketName, prefix)).toBe(0);
    const erased = (await recordsOf(subject)).filter((r) => r.operation === 'erased');
    expect(erased).toEqual([
      expect.objectContaining({
        outcome: 'success',
        reason: 'vault-object-without-item;subject-key-destroyed;all-versions-deleted',
      }),
    ]);
  });

  it('reruns without doubling a record: every orphan above settled once', async () => {
    // Act: two more passes over the whole vault
    const before = await h.logs();
    const first = await h.reconcile(later(100), { intervalMs: 0 });
    const second = await h.reconcile(later(124), { intervalMs: 0 });
    const after = await h.logs();
    // Assess
    expect(first.entries).toEqual([]);
    expect(second.entries).toEqual([]);
    expect(after.length).toBe(before.length);
    const ids = after.map((r) => r.recordId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('goes through a large vault in bounded runs: each run stops when told, the next continues where it stopped', async () => {
    // Prepare: three orphans of one subject
    const who = 'emp-rec-6';
    for (const id of ['a', 'b', 'c'])
      await orphaned(who, `inv-${id}`, 'accounting-document', '2026-03-13');
    // Act: runs of one page of two versions each, stopping after every page
    const runs = [];
    for (let i = 0; i < 100; i += 1) {
      const run = await h.reconcile(later(150), {
        pageSize: 2,
        shouldStop: () => true,
        intervalMs: 0,
      });
      runs.push(run);
      if (!run.truncated) break;
    }
    // Assess: more than one run, each visiting at most a page, all three restored
    expect(runs.length).toBeGreaterThan(1);
    expect(Math.max(...runs.map((r) => r.examined))).toBeLessThanOrEqual(2);
    expect(Object.keys(await h.items(who)).sort()).toEqual(['inv-a', 'inv-b', 'inv-c']);
    expect(runs.reduce((n, r) => n + r.restored, 0)).toBe(3);
  });
});
