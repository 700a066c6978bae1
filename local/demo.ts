import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { OperationContext } from '../shared/operations/context';
import { logWriterFor } from '../shared/batch/log-writer';
import { servicesFromEnvironment } from '../shared/operations/environment';
import { RetentionSweeper } from '../shared/operations/retention-sweep';
import { readLogObjects } from '../shared/processing-log/reader';
import type { LocalPipeline } from './environment';

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

const TENANT = 'acme-sas';

/**
 * Sends a scenario exercising every operation through a running local pipeline: uploads of
 * several categories (one sensitive), an erasure (shredded and deleted case documents, a kept
 * invoice), an access export, a legal hold blocking an expiry and its release, an account closure
 * with export before deletion, sweeps with a moved clock (domain service), another tenant's file,
 * and an upload older than an erasure. Reports what the processing log shows.
 */
export async function runDemo(
  pipeline: LocalPipeline,
  say: (line: string) => void,
): Promise<DemoSummary> {
  const { outputs, endpoint, region } = pipeline.environment;
  const clientOptions = {
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const s3 = new S3Client({ ...clientOptions, forcePathStyle: true });
  const sqs = new SQSClient(clientOptions);
  const services = servicesFromEnvironment();
  let clock: Date | undefined;
  const ctx: OperationContext = { ...services.context, now: () => clock ?? new Date() };
  const sweepLog = logWriterFor('retention-sweep', services.s3);
  const checks: DemoCheck[] = [];
  const check = (name: string, ok: boolean) => {
    checks.push({ name, ok });
    say(`${ok ? 'ok  ' : 'FAIL'}    ${name}`);
  };
  let sent = 0;

  const event = (type: string, data: Record<string, unknown>, time = new Date().toISOString()) => ({
    specversion: '1.0',
    id: randomUUID(),
    source: '/demo',
    type,
    time,
    tenantid: TENANT,
    datacontenttype: 'application/json',
    data,
  });
  const upload = async (
    subjectId: string,
    documentId: string,
    category: string,
    extra: { documentDate?: string; time?: string; key?: string } = {},
  ) => {
    const key = extra.key ?? `${TENANT}/incoming/${documentId}.pdf`;
    if (key.startsWith(`${TENANT}/`))
      await s3.send(
        new PutObjectCommand({
          Bucket: outputs.UploadBucketName,
          Key: key,
          Body: `demo ${category}`,
        }),
      );
    return event(
      'privacy.document.uploaded.v1',
      {
        subjectId,
        documentId,
        category,
        upload: { bucket: outputs.UploadBucketName, key },
        ...(extra.documentDate ? { documentDate: extra.documentDate } : {}),
      },
      extra.time,
    );
  };
  const send = async (label: string, ...events: Array<Record<string, unknown>>) => {
    say(`send    ${label}`);
    for (const e of events) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: outputs.IngressQueueUrl,
          MessageBody: JSON.stringify(e),
        }),
      );
      sent += 1;
    }
    await pipeline.runtime.waitForIdle(90_000);
  };
  const sweep = async (at: Date) => {
    clock = at;
    try {
      const result = await new RetentionSweeper(ctx).sweep(sweepLog);
      say(
        `sweep   clock ${at.toISOString()}: ${result.expired} expired, ${result.skipped} skipped`,
      );
      return result;
    } finally {
      clock = undefined;
    }
  };
  const items = async (subjectId: string) => {
    const subject = await ctx.pseudonyms.subject(TENANT, subjectId);
    return Object.fromEntries(
      (await ctx.store.listDocuments(TENANT, subject)).map((d) => [d.documentId, d]),
    );
  };

  try {
    // 1. uploads of several categories, one of them sensitive (Art. 9)
    await send(
      'uploads: invoice, contract, case document, identity data, disability status (sensitive)',
      await upload('emp-00042', 'receipt-demo-001', 'accounting-document', {
        documentDate: '2026-03-13',
      }),
      await upload('emp-00042', 'contract-demo-001', 'contract'),
      await upload('emp-00042', 'case-demo-001', 'case-document'),
      await upload('emp-00042', 'identity-demo-001', 'identity-contact'),
      await upload('emp-00042', 'disability-demo-001', 'disability-status', {
        documentDate: '2026-01-05',
      }),
    );
    const stored = await items('emp-00042');
    check(
      '5 documents stored, the invoice due 10 years after its fiscal year end',
      Object.keys(stored).length === 5 &&
        stored['receipt-demo-001']?.dueAt === '2036-12-31T23:00:00.000Z',
    );

    // 2. erasure: case documents shredded and deleted, the invoice kept restricted
    await send(
      'uploads for client-007: two case documents and an invoice',
      await upload('client-007', 'case-demo-101', 'case-document'),
      await upload('client-007', 'case-demo-102', 'case-document'),
      await upload('client-007', 'receipt-demo-101', 'accounting-document', {
        documentDate: '2026-02-01',
      }),
    );
    await send(
      'erasure request for client-007',
      event('privacy.erasure.requested.v1', {
        subjectId: 'client-007',
        requestId: 'demo-erasure-1',
        receivedAt: new Date().toISOString(),
      }),
    );
    const erased = await items('client-007');
    check(
      'erasure: case documents gone, invoice restricted',
      Object.keys(erased).join() === 'receipt-demo-101' &&
        erased['receipt-demo-101'].state === 'restricted',
    );

    // 3. reordering: an upload older than the erasure, arriving after it, is never stored
    await send(
      'upload for client-007 dated before the erasure (arrives late)',
      await upload('client-007', 'case-demo-103', 'case-document', {
        time: new Date(Date.now() - 3_600_000).toISOString(),
      }),
    );
    check(
      'late upload older than the erasure not stored',
      !(await items('client-007'))['case-demo-103'],
    );

    // 4. access request: manifest + decrypted documents in the export bucket
    await send(
      'access request for emp-00042',
      event('privacy.access.requested.v1', {
        subjectId: 'emp-00042',
        requestId: 'demo-access-1',
        receivedAt: new Date().toISOString(),
      }),
    );

    // 5. legal hold blocks an expiry; release lets it run at the next sweep
    await send(
      'upload for emp-00077: a payslip already past its 5 years',
      await upload('emp-00077', 'payslip-demo-2019', 'payroll-document', {
        documentDate: '2019-01-31',
      }),
    );
    await send(
      'legal hold placed on emp-00077',
      event('privacy.legal-hold.placed.v1', {
        subjectId: 'emp-00077',
        holdId: 'demo-hold-1',
        reason: 'litigation',
      }),
    );
    await sweep(new Date(Date.now() + 3_600_000));
    check(
      'hold: the due payslip survives the sweep',
      Boolean((await items('emp-00077'))['payslip-demo-2019']),
    );
    await send(
      'legal hold released on emp-00077',
      event('privacy.legal-hold.released.v1', {
        subjectId: 'emp-00077',
        holdId: 'demo-hold-1',
        reason: 'settled',
      }),
    );
    await sweep(new Date(Date.now() + 3_600_000));
    check(
      'release: the next sweep expires the payslip',
      !(await items('emp-00077'))['payslip-demo-2019'],
    );

    // 6. closure with export before deletion, then a sweep after the grace period
    const closedAt = new Date();
    await send(
      'account closure of emp-00042, export before deletion',
      event('privacy.account.closed.v1', {
        subjectId: 'emp-00042',
        closedAt: closedAt.toISOString(),
        exportBeforeDeletion: true,
      }),
    );
    await sweep(new Date(closedAt.getTime() + 31 * 86_400_000));
    const closed = await items('emp-00042');
    check(
      'closure: case and identity data expired after the grace period; invoice, contract and disability record kept',
      Object.keys(closed).sort().join() ===
        'contract-demo-001,disability-demo-001,receipt-demo-001',
    );

    // 7. another tenant's file
    await send(
      "upload pointing into another tenant's prefix",
      await upload('emp-00042', 'foreign-demo-001', 'accounting-document', {
        key: 'other-co/incoming/foreign-demo-001.pdf',
      }),
    );

    // What the processing log shows
    const logObjects = await readLogObjects<Record<string, unknown>>(s3, outputs.LogBucketName);
    const keys = logObjects.map((o) => o.key);
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
    check('log: sensitive data marked', has('stored', 'success', /sensitive-art9/));
    check('log: shredded and erased', has('shredded', 'success') && has('erased', 'success'));
    check(
      'log: invoice kept with its Art. 17(3) ground',
      logRecords.some(
        (r) => r.operation === 'restricted' && /17\(3\)\(b\)/.test(String(r.legalBasis)),
      ),
    );
    check('log: requests completed', has('request-completed', 'success'));
    check(
      'log: exports',
      has('exported', 'success', /access-export/) && has('exported', 'success', /closure-export/),
    );
    check(
      'log: hold placed and released',
      has('hold-placed', 'kept') && has('hold-released', 'success'),
    );
    check('log: expiries', has('expired', 'success'));
    check(
      'log: late upload erased before storage',
      has('erased', 'skipped', /erased-before-upload/),
    );
    check("log: another tenant's file rejected", has('rejected', 'rejected'));
    return {
      sent,
      logObjects: keys.length,
      logRecords,
      outcomes,
      checks,
      ok: checks.every((c) => c.ok),
    };
  } finally {
    s3.destroy();
    sqs.destroy();
  }
}
