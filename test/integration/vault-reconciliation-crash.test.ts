import { registerClientPlugin } from '../../shared/aws/client-config';
import { functionServices } from '../../shared/functions/services';
import { RetentionSweeper } from '../../shared/operations/retention-sweep';
import { vaultMetadataOf } from '../../shared/operations/vault-metadata';
import { VaultReconciler } from '../../shared/operations/vault-reconciliation';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { FaultInjector } from '../support/fault-injector';
import { attempt, LogTail, type Attempt } from './crash-harness';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

jest.setTimeout(900_000);

/**
 * Crash points of the vault reconciliation: a run over three objects without an item (one whose
 * key is destroyed, one not due, one due) is killed at every SDK call index in turn, then run
 * again as the next schedules would (16 minutes apart, past the in-flight window; the sweep a
 * day later resumes an expiry claim). Whatever the crash point, each effect ends with exactly one
 * record and nothing that should be gone is left.
 */
describe('vault reconciliation crash points: every effect logged once', () => {
  const injector = new FaultInjector();
  let unregister: () => void;
  let h: OperationsHarness;
  let tail: LogTail;
  let clock = new Date();
  let rounds = 0;

  beforeAll(async () => {
    unregister = registerClientPlugin(injector);
    h = await startOperationsHarness();
    tail = new LogTail(h.s3, h.outputs.LogBucketName);
  });
  afterAll(async () => {
    await h?.stop();
    unregister?.();
  });

  /** A fresh instance of the sweep function's reconciliation (a new pass every run). */
  const reconciliation = (): Attempt => {
    const env = h.pipeline.runtime.findFunction('retention-sweep').environment;
    const services = { ...functionServices('retention-sweep', env), now: () => clock };
    const reconciler = new VaultReconciler(services, { intervalMs: 0 });
    return () => reconciler.reconcile(services.log);
  };

  /** Writes a vault object as the upload writes it, with no retention item. */
  async function orphan(
    tenant: string,
    who: string,
    documentId: string,
    category: string,
    documentDate: string,
  ) {
    const subject = await h.pseudonym(who, tenant);
    const document = await h.ctx.pseudonyms.of(tenant, 'document', documentId);
    const ref = { tenant, subject, keyClass: category, documentId };
    const metadata = vaultMetadataOf({
      category,
      document,
      documentDate,
      eventTime: documentDate,
      eventKey: `event-${documentId}`,
      payloadHash: `payload-${documentId}`,
    });
    await h.ctx.vault.put(ref, Buffer.from(`content of ${documentId}`), metadata);
    return `${tenant}/${subject}/${category}/${documentId}`;
  }

  /** Runs the scenario of one round, crashing at `crashAt`; returns the problems found. */
  async function round(crashAt?: number): Promise<{ problems: string[]; calls: number }> {
    rounds += 1;
    // Each round's tenant sorts before the last's: the run meets this round's objects first.
    const tenant = `t${String(999 - rounds).padStart(3, '0')}`;
    const who = `crash-rec-${rounds}`;
    const subject = await h.pseudonym(who, tenant);
    const at = (date: string) => `${date}T00:00:00.000Z`;
    const shredded = await orphan(tenant, who, `${who}-case`, 'case-document', at('2026-01-01'));
    await h.ctx.vault.shred(tenant, subject, ['case-document']);
    await orphan(tenant, who, `${who}-inv`, 'accounting-document', at('2026-03-13'));
    const due = await orphan(tenant, who, `${who}-pay`, 'payroll-document', at('2019-01-31'));
    await tail.next();
    // Act: the run that may crash, then the next runs, then the sweep a day later
    const start = Date.now() + 25 * 3600 * 1000;
    clock = new Date(start);
    const first = await attempt(injector, reconciliation(), undefined, crashAt);
    for (let retry = 1; retry <= 3; retry += 1) {
      clock = new Date(start + retry * 16 * 60_000);
      await attempt(injector, reconciliation(), undefined);
    }
    clock = new Date(start + 26 * 3600 * 1000);
    const env = h.pipeline.runtime.findFunction('retention-sweep').environment;
    const services = { ...functionServices('retention-sweep', env), now: () => clock };
    await new RetentionSweeper(services).sweep(services.log);
    const records = (await tail.next()).filter((r) => r.subject === subject);
    // Assess
    const of = (what: (r: ProcessingLogRecord) => boolean, name: string, count: number) => {
      const n = records.filter(what).length;
      return n === count ? [] : [`${n} records of ${name}, not ${count}`];
    };
    const ids = records.map((r) => r.recordId);
    const items = await h.items(who, tenant);
    const problems = [
      ...of(
        (r) => r.operation === 'erased' && r.reason!.includes('subject-key-destroyed'),
        'the deletion',
        1,
      ),
      ...of((r) => r.operation === 'stored' && r.outcome === 'kept', 'the restored item', 1),
      ...of((r) => r.operation === 'expired' && r.outcome === 'success', 'the expiry', 1),
      ...of((r) => r.operation === 'shredded', 'the key shred', 1),
      ...(new Set(ids).size === ids.length ? [] : ['a record id logged twice']),
      ...((await h.versions(h.outputs.VaultBucketName, shredded)) === 0
        ? []
        : ['unreadable object left']),
      ...((await h.versions(h.outputs.VaultBucketName, due)) === 0 ? [] : ['due object left']),
      ...(items[`${who}-inv`]?.state === 'active' ? [] : ['item not restored']),
    ];
    return { problems, calls: first.calls };
  }

  it('settles each orphan with one record whatever call the run dies at', async () => {
    // Prepare: a clean round tells how many calls a run makes
    const clean = await round();
    expect(clean.problems).toEqual([]);
    // Act: a crash at every call index
    const failures: string[] = [];
    for (let n = 1; n <= clean.calls; n += 1)
      failures.push(...(await round(n)).problems.map((p) => `crash at call ${n}: ${p}`));
    // Assess
    expect(failures).toEqual([]);
  });
});
