import { NAMED_QUERIES } from '../../shared/processing-log/named-queries';
import {
  cli,
  SUBJECTS,
  SYNTHETIC_TENANT,
  TENANT,
  startLogAudit,
  type LogAudit,
} from './log-audit-fixture';

describe("processing log: the auditors' named queries on DuckDB over real runs", () => {
  let audit: LogAudit;
  let pipeline: LogAudit['pipeline'];
  let flags: string[];
  let pseudonyms: LogAudit['pseudonyms'];
  let pseudonymKeyId: string;

  beforeAll(async () => {
    // Prepare: real runs and synthetic records in the log (see startLogAudit)
    audit = await startLogAudit();
    ({ pipeline, flags, pseudonyms, pseudonymKeyId } = audit);
  }, 180_000);

  afterAll(() => audit?.stop());

  const query = async (name: string, params: string[] = []) => {
    const result = await cli(['log', 'query', name, ...params, '--format', 'json', ...flags]);
    expect(result.code).toBe(0);
    return JSON.parse(result.out) as Array<Record<string, unknown>>;
  };

  it('prints the same pseudonym as the pipeline, and operations-by-subject finds its real records', async () => {
    // Prepare
    const expected = await pseudonyms.subject(TENANT, SUBJECTS[2]!);
    // Act
    const printed = await cli([
      'pseudonym',
      SUBJECTS[2]!,
      '--tenant',
      TENANT,
      '--key',
      pseudonymKeyId,
      ...flags,
    ]);
    const rows = await query('operations-by-subject', ['--param', `subject=${printed.out}`]);
    // Assess
    expect(printed.code).toBe(0);
    expect(printed.out).toBe(expected);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.every((r) => r.tenant === TENANT)).toBe(true);
    expect(
      rows.filter((r) => r.operation === 'received' && r.eventId === 'log-audit-doc-2'),
    ).toHaveLength(1);
  });

  it('lists the rejected events of real runs with their reasons', async () => {
    // Act
    const rows = (await query('rejected-events')).filter((r) =>
      String(r.eventId).startsWith('log-audit-'),
    );
    // Assess
    expect(rows.map((r) => r.eventId).sort()).toEqual([
      'log-audit-bad-category',
      'log-audit-bad-field',
    ]);
    expect(rows.every((r) => typeof r.reason === 'string' && (r.reason as string).length > 0)).toBe(
      true,
    );
    expect(rows.every((r) => r.tenant === TENANT)).toBe(true);
  });

  it('answers the request queries: erasure requests, all requests, overdue requests (synthetic records)', async () => {
    // Act
    const erasures = (await query('erasure-requests')).filter((r) => r.tenant === SYNTHETIC_TENANT);
    const requests = (await query('requests')).filter((r) => r.tenant === SYNTHETIC_TENANT);
    const overdue = (await query('overdue-requests')).filter((r) => r.tenant === SYNTHETIC_TENANT);
    // Assess
    const status = (rows: Array<Record<string, unknown>>) =>
      Object.fromEntries(rows.map((r) => [r.requestId, r.status]));
    expect(status(erasures)).toEqual({
      R1: 'on-time',
      R2: 'late',
      R3: 'overdue',
      R4: 'open',
      R5: 'deferred',
    });
    const r1 = erasures.find((r) => r.requestId === 'R1')!;
    const r5 = erasures.find((r) => r.requestId === 'R5')!;
    // only successful deletions of data count (not the key shredded with it, not a deferral)
    expect(Number(r1.deleted)).toBe(1);
    expect(Number(r5.deleted)).toBe(0);
    expect(Number(r5.deferred)).toBe(1);
    expect(Number(r1.restricted)).toBe(1);
    expect(Number(r1.completionDays)).toBeCloseTo(15, 5);
    expect(Number(r1.deadlineDays)).toBeCloseTo(31, 5);
    expect(status(requests)).toEqual({
      R1: 'on-time',
      R2: 'late',
      R3: 'overdue',
      R4: 'open',
      R5: 'deferred',
      A1: 'on-time',
    });
    expect(overdue.map((r) => r.requestId).sort()).toEqual(['R2', 'R3']);
  });

  it('counts expiries per category and month (synthetic records)', async () => {
    // Act
    const rows = (await query('expiries-per-category-month')).filter(
      (r) => r.tenant === SYNTHETIC_TENANT,
    );
    // Assess
    expect(rows.map((r) => [r.month, r.category, Number(r.expired), Number(r.kept)])).toEqual([
      ['2026-01', 'accounting-document', 2, 0],
      ['2026-01', 'contract', 1, 0],
      ['2026-02', 'contract', 1, 1],
    ]);
  });

  it('lists the documents still waiting for the end of the relationship, per tenant and category (synthetic records)', async () => {
    // Act
    const rows = (await query('waiting-for-closure')).filter((r) => r.tenant === SYNTHETIC_TENANT);
    // Assess: W2's clock started, W1 and W3 still wait
    expect(rows.map((r) => [r.category, Number(r.documents), r.oldestSince])).toEqual([
      ['contract', 1, '2026-01-05T00:00:00.000Z'],
      ['case-document', 1, '2026-02-07T00:00:00.000Z'],
    ]);
    expect(Number(rows[0]!.oldestDays)).toBeGreaterThan(300);
  });

  it('has a test for every named query', () => {
    // operations-by-request and operations-by-hold run on real records in hostile-input.test.ts
    expect(NAMED_QUERIES.map((q) => q.name).sort()).toEqual([
      'erasure-requests',
      'expiries-per-category-month',
      'operations-by-hold',
      'operations-by-request',
      'operations-by-subject',
      'overdue-requests',
      'rejected-events',
      'requests',
      'waiting-for-closure',
    ]);
  });

  it('runs auditor SQL against the view named like the Glue table', async () => {
    // Prepare
    const table = pipeline.environment.outputs.GlueTableName ?? 'processing_log';
    // Act
    const result = await cli([
      'log',
      'query',
      '--sql',
      `SELECT count(*) AS n FROM ${table} WHERE tenant = 'audit-synthetic'`,
      '--format',
      'csv',
      ...flags,
    ]);
    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toBe('n\n22');
  });
});
