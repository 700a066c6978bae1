import { readLogObjects } from '../shared/processing-log/reader';
import type { LocalPipeline } from './environment';
import { PipelineDriver } from './pipeline-driver';

/** One expectation of the demo scenario and whether it held. */
export interface DemoCheck {
  readonly name: string;
  readonly ok: boolean;
}

/** What the demo scenario observed, for its summary. */
export interface DemoSummary {
  readonly sent: number;
  readonly logObjects: number;
  readonly logRecords: Array<Record<string, unknown>>;
  /** Log records per `operation outcome`, e.g. `erased success`. */
  readonly outcomes: Record<string, number>;
  readonly checks: readonly DemoCheck[];
  readonly ok: boolean;
}

/** The demo's driver: it says what it sends and sweeps, and keeps the checks. */
class DemoSession extends PipelineDriver {
  readonly checks: DemoCheck[] = [];

  constructor(
    pipeline: LocalPipeline,
    private readonly say: (line: string) => void,
  ) {
    super(pipeline, { source: '/demo', tenant: 'acme-sas' });
  }

  /** Records whether an expectation held, and says it. */
  check(name: string, ok: boolean): void {
    this.checks.push({ name, ok });
    this.say(`${ok ? 'ok  ' : 'FAIL'}    ${name}`);
  }

  /** Says what is sent, then sends it (see {@link PipelineDriver.send}). */
  async sendAs(label: string, ...events: Array<Record<string, unknown>>): Promise<void> {
    this.say(`send    ${label}`);
    await this.send(...events);
  }

  /** Sweeps with the clock at `at`, and says what it did. */
  async sweepAt(at: Date): Promise<void> {
    const result = await this.sweep(at);
    this.say(
      `sweep   clock ${at.toISOString()}: ${result.expired} expired, ${result.skipped} skipped`,
    );
  }
}

/**
 * Sends a scenario exercising every operation through a running local pipeline: uploads of
 * several categories (one sensitive), an erasure (shredded and deleted case documents, a kept
 * invoice), an upload older than an erasure, an access export, a legal hold blocking an expiry
 * and its release, an account closure with export before deletion, sweeps with a moved clock
 * (domain service) and another tenant's file. Reports what the processing log shows.
 */
export async function runDemo(
  pipeline: LocalPipeline,
  say: (line: string) => void,
): Promise<DemoSummary> {
  const demo = new DemoSession(pipeline, say);
  try {
    for (const step of SCENARIO) await step(demo);
    return await logSummary(demo);
  } finally {
    demo.destroy();
  }
}

/** The steps of the scenario, in order. */
const SCENARIO: ReadonlyArray<(demo: DemoSession) => Promise<void>> = [
  uploads,
  erasure,
  lateUpload,
  accessRequest,
  legalHold,
  accountClosure,
  foreignFile,
];

/** Uploads of several categories, one of them sensitive (Art. 9). */
async function uploads(demo: DemoSession): Promise<void> {
  await demo.sendAs(
    'uploads: invoice, contract, case document, identity data, disability status (sensitive)',
    await demo.upload('emp-00042', 'receipt-demo-001', 'accounting-document', {
      documentDate: '2026-03-13',
    }),
    await demo.upload('emp-00042', 'contract-demo-001', 'contract'),
    await demo.upload('emp-00042', 'case-demo-001', 'case-document'),
    await demo.upload('emp-00042', 'identity-demo-001', 'identity-contact'),
    await demo.upload('emp-00042', 'disability-demo-001', 'disability-status', {
      documentDate: '2026-01-05',
    }),
  );
  const stored = await demo.items('emp-00042');
  demo.check(
    '5 documents stored, the invoice due 10 years after its fiscal year end',
    Object.keys(stored).length === 5 &&
      stored['receipt-demo-001']?.dueAt === '2036-12-31T23:00:00.000Z',
  );
}

/** Erasure: case documents shredded and deleted, the invoice kept restricted. */
async function erasure(demo: DemoSession): Promise<void> {
  await demo.sendAs(
    'uploads for client-007: two case documents and an invoice',
    await demo.upload('client-007', 'case-demo-101', 'case-document'),
    await demo.upload('client-007', 'case-demo-102', 'case-document'),
    await demo.upload('client-007', 'receipt-demo-101', 'accounting-document', {
      documentDate: '2026-02-01',
    }),
  );
  await demo.sendAs(
    'erasure request for client-007',
    demo.event('privacy.erasure.requested.v1', {
      subjectId: 'client-007',
      requestId: 'demo-erasure-1',
      receivedAt: new Date().toISOString(),
    }),
  );
  const erased = await demo.items('client-007');
  demo.check(
    'erasure: case documents gone, invoice restricted',
    Object.keys(erased).join() === 'receipt-demo-101' &&
      erased['receipt-demo-101'].state === 'restricted',
  );
}

/** Reordering: an upload older than the erasure, arriving after it, is never stored. */
async function lateUpload(demo: DemoSession): Promise<void> {
  await demo.sendAs(
    'upload for client-007 dated before the erasure (arrives late)',
    await demo.upload('client-007', 'case-demo-103', 'case-document', {
      time: new Date(Date.now() - 3_600_000).toISOString(),
    }),
  );
  demo.check(
    'late upload older than the erasure not stored',
    !(await demo.items('client-007'))['case-demo-103'],
  );
}

/** Access request: manifest and decrypted documents in the export bucket. */
async function accessRequest(demo: DemoSession): Promise<void> {
  await demo.sendAs(
    'access request for emp-00042',
    demo.event('privacy.access.requested.v1', {
      subjectId: 'emp-00042',
      requestId: 'demo-access-1',
      receivedAt: new Date().toISOString(),
    }),
  );
}

/** A legal hold blocks an expiry; its release lets the next sweep run it. */
async function legalHold(demo: DemoSession): Promise<void> {
  await demo.sendAs(
    'upload for emp-00077: a payslip already past its 5 years',
    await demo.upload('emp-00077', 'payslip-demo-2019', 'payroll-document', {
      documentDate: '2019-01-31',
    }),
  );
  const hold = { subjectId: 'emp-00077', holdId: 'demo-hold-1' };
  await demo.sendAs(
    'legal hold placed on emp-00077',
    demo.event('privacy.legal-hold.placed.v1', { ...hold, reason: 'litigation' }),
  );
  await demo.sweepAt(new Date(Date.now() + 3_600_000));
  demo.check(
    'hold: the due payslip survives the sweep',
    Boolean((await demo.items('emp-00077'))['payslip-demo-2019']),
  );
  await demo.sendAs(
    'legal hold released on emp-00077',
    demo.event('privacy.legal-hold.released.v1', { ...hold, reason: 'settled' }),
  );
  await demo.sweepAt(new Date(Date.now() + 3_600_000));
  demo.check(
    'release: the next sweep expires the payslip',
    !(await demo.items('emp-00077'))['payslip-demo-2019'],
  );
}

/** Closure with export before deletion, then a sweep after the grace period. */
async function accountClosure(demo: DemoSession): Promise<void> {
  const closedAt = new Date();
  await demo.sendAs(
    'account closure of emp-00042, export before deletion',
    demo.event('privacy.account.closed.v1', {
      subjectId: 'emp-00042',
      closedAt: closedAt.toISOString(),
      exportBeforeDeletion: true,
    }),
  );
  await demo.sweepAt(new Date(closedAt.getTime() + 31 * 86_400_000));
  const closed = await demo.items('emp-00042');
  demo.check(
    'closure: case and identity data expired after the grace period; invoice, contract and disability record kept',
    Object.keys(closed).sort().join() === 'contract-demo-001,disability-demo-001,receipt-demo-001',
  );
}

/** An upload event pointing into another tenant's prefix. */
async function foreignFile(demo: DemoSession): Promise<void> {
  await demo.sendAs(
    "upload pointing into another tenant's prefix",
    await demo.upload('emp-00042', 'foreign-demo-001', 'accounting-document', {
      key: 'other-co/incoming/foreign-demo-001.pdf',
    }),
  );
}

/** What the processing log shows after the scenario, checked record kind by record kind. */
async function logSummary(demo: DemoSession): Promise<DemoSummary> {
  const logObjects = await readLogObjects<Record<string, unknown>>(
    demo.s3,
    demo.outputs.LogBucketName,
  );
  const logRecords = logObjects.flatMap((o) => o.records);
  const outcomes: Record<string, number> = {};
  for (const r of logRecords) {
    const k = `${r.operation} ${r.outcome}`;
    outcomes[k] = (outcomes[k] ?? 0) + 1;
  }
  const has = (operation: string, outcome: string, reason?: RegExp) =>
    logRecords.some(
      (r) =>
        r.operation === operation &&
        r.outcome === outcome &&
        (!reason || reason.test(String(r.reason ?? ''))),
    );
  demo.check('log: sensitive data marked', has('stored', 'success', /sensitive-art9/));
  demo.check('log: shredded and erased', has('shredded', 'success') && has('erased', 'success'));
  demo.check(
    'log: invoice kept with its Art. 17(3) ground',
    logRecords.some(
      (r) => r.operation === 'restricted' && /17\(3\)\(b\)/.test(String(r.legalBasis)),
    ),
  );
  demo.check('log: requests completed', has('request-completed', 'success'));
  demo.check(
    'log: exports',
    has('exported', 'success', /access-export/) && has('exported', 'success', /closure-export/),
  );
  demo.check(
    'log: hold placed and released',
    has('hold-placed', 'kept') && has('hold-released', 'success'),
  );
  demo.check('log: expiries', has('expired', 'success'));
  demo.check(
    'log: late upload erased before storage',
    has('erased', 'skipped', /erased-before-upload/),
  );
  demo.check("log: another tenant's file rejected", has('rejected', 'rejected'));
  const { checks, sent } = demo;
  return {
    sent,
    logObjects: logObjects.length,
    logRecords,
    outcomes,
    checks,
    ok: checks.every((c) => c.ok),
  };
}
