import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/main';
import { createDynamoDocumentClient } from '../../shared/aws/dynamodb';
import { PolicyChange, type ApplyLog } from '../../shared/operations/policy-change';
import { ProcessingLogWriter } from '../../shared/processing-log/writer';
import { loadRetentionPolicy } from '../../shared/retention/policy';
import { StoredDocuments } from '../../shared/retention/stored-documents';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

jest.setTimeout(240_000);

/** Runs the CLI in-process and captures its output. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The controllers' instructions the tests apply over the default policy. */
const INSTRUCTIONS = {
  version: 1,
  tenants: {
    'acme-sas': {
      controller: { name: 'ACME SAS', contact: 'dpo@acme.example' },
      fiscalYearEnd: '03-31',
      retention: {
        'payroll-document': 'P8Y',
        'prospect-contact': 'P1Y',
        'accounting-document': 'P12Y',
      },
    },
    'gamma-sarl': {
      controller: { name: 'Gamma SARL', contact: 'rgpd@gamma.example' },
      retention: { 'payroll-document': 'P6Y' },
    },
  },
};

describe('retention plan, apply and forecast: a policy change applied to what is stored (local endpoint)', () => {
  let h: OperationsHarness;
  let work: string;
  let flags: string[];

  beforeAll(async () => {
    h = await startOperationsHarness();
    work = mkdtempSync(path.join(tmpdir(), 'retention-cli-'));
    const outputs = path.join(work, 'outputs.json');
    writeFileSync(
      outputs,
      JSON.stringify({ endpoint: h.pipeline.endpoint, region: 'eu-west-3', ...h.outputs }),
    );
    writeFileSync(path.join(work, 'tenants.json'), JSON.stringify(INSTRUCTIONS));
    flags = ['--outputs', outputs, '--tenants', path.join(work, 'tenants.json')];
  });

  afterAll(async () => {
    await h?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const rescheduledRecords = async (tenant: string) =>
    (await h.logs()).filter((r) => r.operation === 'rescheduled' && r.tenant === tenant);

  it('plans (changing nothing), applies with a grace for what is due at once, is idempotent, forecasts, and deletes at once only when asked', async () => {
    // Prepare: documents stored under the default policy, for a listed and an unlisted tenant
    const hold = (who: string) =>
      h.event('privacy.legal-hold.placed.v1', { subjectId: who, holdId: 'h1', reason: 'audit' });
    await h.send(hold('emp-d'));
    await h.send(
      await h.upload('emp-a', 'pay-a', 'payroll-document', 'a', { documentDate: '2026-03-13' }),
      await h.upload('emp-a', 'inv-a', 'accounting-document', 'a', { documentDate: '2026-03-13' }),
      await h.upload('prospect-b', 'pc-b', 'prospect-contact', 'b'),
      await h.upload('emp-c', 'inv-c', 'accounting-document', 'c', { documentDate: '2026-03-13' }),
      await h.upload('emp-d', 'pay-d', 'payroll-document', 'd', { documentDate: '2020-01-10' }),
      await h.upload('case-e', 'case-e', 'case-document', 'e'),
      await h.upload('emp-f', 'pay-f', 'payroll-document', 'f', {
        documentDate: '2026-03-13',
        tenant: 'beta-gmbh',
      }),
    );
    await h.send(
      h.event('privacy.account.closed.v1', {
        subjectId: 'prospect-b',
        closedAt: '2024-06-01T00:00:00Z',
      }),
      h.event('privacy.erasure.requested.v1', {
        subjectId: 'emp-c',
        requestId: 'req-c',
        receivedAt: new Date().toISOString(),
      }),
    );
    const before = { ...(await h.items('emp-a')), ...(await h.items('prospect-b')) };
    // Act
    const plan = await cli(['retention', 'plan', '--format', 'json', ...flags]);
    const unchangedByPlan = { ...(await h.items('emp-a')), ...(await h.items('prospect-b')) };
    const apply = await cli(['retention', 'apply', ...flags]);
    const after = {
      ...(await h.items('emp-a')),
      ...(await h.items('prospect-b')),
      ...(await h.items('emp-c')),
      ...(await h.items('emp-d')),
    };
    const again = await cli(['retention', 'apply', ...flags]);
    const forecast = await cli([
      'retention',
      'forecast',
      '--days',
      '10',
      '--format',
      'json',
      ...flags,
    ]);
    const records = await rescheduledRecords('acme-sas');
    const atOnce = await cli(['retention', 'apply', '--at-once', ...flags]);
    const swept = await h.sweep(new Date(Date.now() + 60_000).toISOString());
    const verify = await cli(['log', 'verify', ...flags]);
    // Assess: the plan, per tenant and category
    expect(plan.code).toBe(0);
    const rows = JSON.parse(plan.out) as Array<Record<string, unknown>>;
    const row = (tenant: string, category: string) =>
      rows.find((r) => r.tenant === tenant && r.category === category);
    expect(row('acme-sas', 'accounting-document')).toMatchObject({
      items: 2,
      later: 1,
      earlier: 1,
    });
    expect(row('acme-sas', 'payroll-document')).toMatchObject({ items: 2, later: 1, held: 1 });
    expect(row('acme-sas', 'prospect-contact')).toMatchObject({ items: 1, 'at-once': 1 });
    expect(row('acme-sas', 'case-document')).toMatchObject({ items: 1, waiting: 1 });
    expect(row('beta-gmbh', 'payroll-document')).toMatchObject({ items: 1, unchanged: 1 });
    expect(unchangedByPlan).toEqual(before);
    // Assess: the apply
    expect(apply.code).toBe(0);
    expect(apply.err).toMatch(/rescheduled 5 document\(s\), each logged.*1 due at once given P7D/);
    expect(after['pay-a']!.dueAt).toBe('2034-03-12T23:00:00.000Z');
    expect(after['inv-a']!.dueAt).toBe('2038-03-31T22:00:00.000Z');
    expect(after['inv-c']).toMatchObject({
      state: 'restricted',
      dueAt: '2036-03-31T22:00:00.000Z',
    });
    expect(after['pay-d']).toMatchObject({ state: 'held', dueAt: '2028-01-09T23:00:00.000Z' });
    expect(after['pay-d']!.expiresAt).toBeUndefined();
    const graced = Date.parse(after['pc-b']!.dueAt!) - Date.now();
    expect(graced).toBeGreaterThan(6.9 * 86_400_000);
    expect(graced).toBeLessThanOrEqual(7 * 86_400_000);
    expect(records).toHaveLength(5);
    const pcb = records.find((r) => r.document === after['pc-b']!.document)!;
    expect(pcb.reason).toBe(
      `policy-change;from:2027-06-01T00:00:00.000Z;to:${after['pc-b']!.dueAt};due-at-once-deferred:P7D`,
    );
    expect(pcb.retainUntil).toBe(after['pc-b']!.dueAt);
    // Assess: idempotent, forecast, deletion at once only with --at-once
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/rescheduled 0 document/);
    const expiring = (JSON.parse(forecast.out) as Array<Record<string, unknown>>).filter(
      (r) => r.tenant === 'acme-sas',
    );
    expect(expiring).toEqual([
      expect.objectContaining({ category: 'prospect-contact', expiring: 1 }),
    ]);
    expect(atOnce.err).toMatch(/rescheduled 1 document/);
    expect(swept.expired).toBe(1);
    expect(await h.items('prospect-b')).toEqual({});
    expect(verify.code).toBe(0);
  });

  it('continues an interrupted apply where it stopped: every change logged once, none twice', async () => {
    // Prepare: seven payslips of another tenant, read two items a page
    const subjects = Array.from({ length: 7 }, (_, i) => `gamma-${i}`);
    const uploads = [];
    for (const who of subjects)
      uploads.push(
        await h.upload(who, `pay-${who}`, 'payroll-document', who, {
          documentDate: '2026-02-01',
          tenant: 'gamma-sarl',
        }),
      );
    await h.send(...uploads);
    const dynamo = createDynamoDocumentClient();
    const documents = new StoredDocuments(dynamo, h.outputs.RetentionTableName!);
    const policy = loadRetentionPolicy('config/retention-policy.json', INSTRUCTIONS);
    const change = new PolicyChange(policy, h.ctx.store, documents);
    const writer = () =>
      new ProcessingLogWriter({
        s3: h.s3,
        bucket: h.outputs.LogBucketName!,
        actor: 'retention-apply',
      });
    const options = { atOnce: false, config: 'gamma-v1', pageSize: 2 };
    // Act: crash 1, the second log write fails (changes saved, not logged)
    const first: ApplyLog = writer();
    const flush = first.flush.bind(first);
    let flushes = 0;
    first.flush = async () => {
      flushes += 1;
      if (flushes === 2) throw new Error('crash before the log write');
      return flush();
    };
    const crash1 = await change.apply(first, options).catch((e: Error) => e);
    const otherVersion = await cli([
      'retention',
      'apply',
      '--tenants',
      'config/tenants.json',
      ...flags.slice(0, 2),
    ]);
    // Act: crash 2, after the next log write, before the progress moves on
    const second = writer();
    const put = documents.putProgress.bind(documents);
    const spy = jest.spyOn(documents, 'putProgress').mockImplementation(async (name, progress) => {
      if (!(progress as { pending?: unknown }).pending && second.nextSeq > 0)
        throw new Error('crash after the log write');
      return put(name, progress);
    });
    const crash2 = await change.apply(second, options).catch((e: Error) => e);
    spy.mockRestore();
    const finished = await change.apply(writer(), options);
    // Assess
    expect(crash1).toBeInstanceOf(Error);
    expect(crash2).toBeInstanceOf(Error);
    expect(otherVersion.code).toBe(2);
    expect(otherVersion.err).toMatch(
      /was interrupted: apply that version again to finish it, or pass --restart/,
    );
    expect(finished.resumedFrom).toBeDefined();
    const records = await rescheduledRecords('gamma-sarl');
    expect(records).toHaveLength(7);
    expect(new Set(records.map((r) => r.recordId)).size).toBe(7);
    for (const who of subjects) {
      const item = Object.values(await h.items(who, 'gamma-sarl'))[0]!;
      expect(item.dueAt).toBe('2032-01-31T23:00:00.000Z');
      expect(records.filter((r) => r.document === item.document)).toHaveLength(1);
    }
    expect(await documents.getProgress('retention-apply')).toBeUndefined();
    const verify = await cli(['log', 'verify', '--format', 'json', ...flags]);
    expect(JSON.parse(verify.out).problems).toEqual([]);
    dynamo.destroy();
  });
});
