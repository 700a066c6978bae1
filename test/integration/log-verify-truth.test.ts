import { PutObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { ProcessingLogVerifier } from '../../shared/processing-log/verify';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

describe('log verify tells the truth (local endpoint)', () => {
  let h: OperationsHarness;

  beforeAll(async () => {
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('gives distinct effects distinct record ids: a category emptied twice, a document id stored and expired twice, raise no duplicate-record', async () => {
    // Prepare: a payslip already due, swept; another one, swept; the first id uploaded again, swept
    const who = 'emp-log-ids';
    const subject = await h.pseudonym(who);
    const payslip = (id: string) =>
      h.upload(who, id, 'payroll-document', `payslip ${id}`, { documentDate: '2019-01-31' });
    const sweepSoon = () => h.sweep(new Date(Date.now() + 60_000).toISOString());
    // Act
    await h.send(await payslip('pay-1'));
    await sweepSoon();
    await h.send(await payslip('pay-2'));
    await sweepSoon();
    await h.send(await payslip('pay-1'));
    await sweepSoon();
    const report = await new ProcessingLogVerifier(h.s3, h.outputs.LogBucketName).verify();
    const logs = (await h.logs()).filter((r) => r.subject === subject);
    // Assess: three expiries and three shreds happened, each its own record
    expect(logs.filter((r) => r.operation === 'shredded')).toHaveLength(3);
    expect(logs.filter((r) => r.operation === 'expired' && r.outcome === 'success')).toHaveLength(
      3,
    );
    expect(report.problems.filter((p) => p.kind === 'duplicate-record')).toEqual([]);
  });

  it("checks each log object's Object Lock: compliance mode, retained as long as the bucket's rule", async () => {
    // Prepare: an object put under governance mode with a one-day retention, as a writer that
    // bypassed the bucket's rule would
    const key = `dt=${new Date().toISOString().slice(0, 10)}/intruder/short-lock.jsonl.gz`;
    await h.s3.send(
      new PutObjectCommand({
        Bucket: h.outputs.LogBucketName,
        Key: key,
        Body: gzipSync('\n'),
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
      }),
    );
    // Act
    const report = await new ProcessingLogVerifier(h.s3, h.outputs.LogBucketName).verify();
    const lockProblems = report.problems.filter((p) => p.kind === 'object-lock');
    // Assess: that object is reported, the pipeline's own objects are not
    expect(lockProblems.map((p) => p.key)).toEqual([key]);
    expect(lockProblems[0]!.detail).toMatch(/GOVERNANCE/);
  });
});
