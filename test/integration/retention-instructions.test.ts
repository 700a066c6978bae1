import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

jest.setTimeout(180_000);

/**
 * The pipeline runs with a controller's instructions (TENANTS_FILE, as the bundled
 * config/tenants.json would be deployed): its periods, fiscal year end and time zone decide the
 * due dates, the legal duty those of restricted data, and the export manifest says so.
 */
describe("a controller's instructions, enforced by the pipeline (local endpoint)", () => {
  let h: OperationsHarness;
  let work: string;
  const previous = process.env.TENANTS_FILE;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'instructions-'));
    const file = path.join(work, 'tenants.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        tenants: {
          'acme-sas': {
            controller: { name: 'ACME Inc', contact: 'privacy@acme.example' },
            fiscalYearEnd: '06-30',
            timeZone: 'America/New_York',
            retention: { 'payroll-document': 'P8Y' },
          },
        },
      }),
    );
    process.env.TENANTS_FILE = file;
    h = await startOperationsHarness();
  });

  afterAll(async () => {
    await h?.stop();
    if (previous === undefined) delete process.env.TENANTS_FILE;
    else process.env.TENANTS_FILE = previous;
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("schedules on the tenant's calendar and period, restricts to the legal duty, and says so in the export", async () => {
    // Prepare
    const who = 'emp-ny-1';
    await h.send(
      await h.upload(who, 'pay-ny', 'payroll-document', 'payslip', { documentDate: '2026-03-13' }),
      await h.upload(who, 'inv-ny', 'accounting-document', 'invoice', {
        documentDate: '2026-01-01T00:30:00+01:00',
      }),
    );
    const stored = await h.items(who);
    // Act
    await h.send(
      h.event('privacy.access.requested.v1', {
        subjectId: who,
        requestId: 'req-ny-access',
        receivedAt: new Date().toISOString(),
      }),
    );
    const subject = await h.pseudonym(who);
    const keys = await h.listKeys(h.outputs.ExportBucketName, `acme-sas/${subject}/`);
    const manifest = JSON.parse(
      await h.getText(
        h.outputs.ExportBucketName,
        keys.find((k) => k.endsWith('manifest.json'))!,
      ),
    ) as { controller: unknown; timeZone: string; documents: Array<Record<string, unknown>> };
    await h.send(
      h.event('privacy.erasure.requested.v1', {
        subjectId: who,
        requestId: 'req-ny-erasure',
        receivedAt: new Date().toISOString(),
      }),
    );
    const restricted = await h.items(who);
    // Assess: 13 March 2026 in New York + 8 years; the invoice's fiscal year (to 30 June, New York)
    // is the one of 31 December 2025 18:30 there, which ends at midnight on 1 July 2026.
    expect(stored['pay-ny']!.documentDate).toBe('2026-03-13T04:00:00.000Z');
    expect(stored['pay-ny']!.dueAt).toBe('2034-03-13T04:00:00.000Z');
    expect(stored['inv-ny']!.dueAt).toBe('2036-07-01T04:00:00.000Z');
    const byId = Object.fromEntries(manifest.documents.map((d) => [d.documentId, d]));
    expect(manifest.controller).toEqual({ name: 'ACME Inc', contact: 'privacy@acme.example' });
    expect(manifest.timeZone).toBe('America/New_York');
    expect(byId['pay-ny']).toMatchObject({
      retention: 'P8Y',
      retentionSource: 'controller-instruction',
      retainUntil: '2034-03-13T04:00:00.000Z',
    });
    expect(byId['inv-ny']).toMatchObject({ retention: 'P10Y', retentionSource: 'policy' });
    expect(restricted['pay-ny']).toMatchObject({
      state: 'restricted',
      dueAt: '2031-03-13T04:00:00.000Z',
    });
    const log = (await h.logs()).find(
      (r) =>
        r.operation === 'restricted' && r.category === 'payroll-document' && r.subject === subject,
    );
    expect(log?.retainUntil).toBe('2031-03-13T04:00:00.000Z');
  });
});
