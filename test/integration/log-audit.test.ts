import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { runCli } from '../../cli/main';
import type { LocalPipeline } from '../../local/environment';
import { listObjectVersions } from '../../shared/aws/object-versions';
import { NAMED_QUERIES } from '../../shared/processing-log/named-queries';
import { recordsDigest } from '../../shared/processing-log/writer';
import { loadRetentionPolicy } from '../../shared/retention/policy';
import { Pseudonymizer } from '../../shared/pseudonym';
import { startTestPipeline } from '../helpers/local-pipeline';
import { writeSyntheticLog } from './log-audit-records';

/** Runs the CLI in-process and captures its output. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const TENANT = 'acme-sas';
/** Tenant of the records written directly with ProcessingLogWriter (kinds no operation writes yet). */
const SYNTHETIC_TENANT = 'audit-synthetic';
const SUBJECTS = ['emp-00042', 'emp-00043', 'cust:7781@acme'];

describe('processing log: real pipeline runs, named queries on DuckDB, verify, CLI', () => {
  let pipeline: LocalPipeline;
  let s3: S3Client;
  let kms: KMSClient;
  let sqs: SQSClient;
  let bucket: string;
  let outputsFile: string;
  let work: string;
  let flags: string[];
  let pseudonyms: Pseudonymizer;
  let pseudonymKeyId: string;
  let syntheticSubject: string;
  /** Keys of the synthetic chain written by one writer (3 objects). */
  const chainKeys: string[] = [];
  let otherChainKeys: string[] = [];
  const documents = SUBJECTS.map((subject, i) => ({ subject, documentId: `doc-${i}` }));

  const document = (subject: string, documentId: string, category = 'accounting-document') => ({
    specversion: '1.0',
    id: `log-audit-${documentId}`,
    source: '/expense-service',
    type: 'privacy.document.uploaded.v1',
    time: '2026-03-14T09:12:00Z',
    tenantid: TENANT,
    data: {
      subjectId: subject,
      documentId,
      category,
      upload: {
        bucket: pipeline.environment.outputs.UploadBucketName,
        key: `${TENANT}/incoming/${documentId}.pdf`,
      },
      documentDate: '2026-03-13',
    },
  });

  beforeAll(async () => {
    // Prepare: a pipeline with one poller per queue (one function instance at a time, as in Lambda).
    pipeline = await startTestPipeline({ concurrencyPerMapping: 1 });
    const options = {
      endpoint: pipeline.endpoint,
      region: 'eu-west-3',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    };
    s3 = new S3Client({ ...options, forcePathStyle: true });
    kms = new KMSClient(options);
    sqs = new SQSClient(options);
    const { outputs } = pipeline.environment;
    bucket = outputs.LogBucketName!;
    work = mkdtempSync(path.join(tmpdir(), 'log-audit-'));
    outputsFile = path.join(work, 'outputs.json');
    writeFileSync(
      outputsFile,
      JSON.stringify({ endpoint: pipeline.endpoint, region: 'eu-west-3', ...outputs }),
    );
    flags = ['--outputs', outputsFile];
    pseudonymKeyId = pipeline.runtime.findFunction('intake').environment.PSEUDONYM_KEY_ID;
    pseudonyms = new Pseudonymizer(kms, pseudonymKeyId);

    // Real runs: document uploads (received records) and invalid events (rejected records).
    for (const d of documents)
      await s3.send(
        new PutObjectCommand({
          Bucket: outputs.UploadBucketName,
          Key: `${TENANT}/incoming/${d.documentId}.pdf`,
          Body: `content of ${d.documentId}`,
        }),
      );
    const invalid = [
      { ...document(SUBJECTS[0]!, 'bad-1', 'no-such-category'), id: 'log-audit-bad-category' },
      {
        ...document(SUBJECTS[1]!, 'bad-2'),
        id: 'log-audit-bad-field',
        data: { subjectId: SUBJECTS[1] },
      },
    ];
    for (const event of [...documents.map((d) => document(d.subject, d.documentId)), ...invalid])
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: outputs.IngressQueueUrl,
          MessageBody: JSON.stringify(event),
        }),
      );
    await pipeline.runtime.waitForIdle(90_000);

    // Synthetic (clearly labelled): requests and expiries, written with the real writer under
    // their own tenant so expectations are exact.
    syntheticSubject = await pseudonyms.subject(SYNTHETIC_TENANT, 'person-1');
    const written = await writeSyntheticLog(s3, bucket, SYNTHETIC_TENANT, syntheticSubject);
    chainKeys.push(...written.chainKeys);
    otherChainKeys = written.otherChainKeys;
  }, 180_000);

  afterAll(async () => {
    await pipeline?.stop();
    s3?.destroy();
    kms?.destroy();
    sqs?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

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
    expect(status(erasures)).toEqual({ R1: 'on-time', R2: 'late', R3: 'overdue', R4: 'open' });
    const r1 = erasures.find((r) => r.requestId === 'R1')!;
    expect(Number(r1.deleted)).toBe(1);
    expect(Number(r1.restricted)).toBe(1);
    expect(Number(r1.completionDays)).toBeCloseTo(15, 5);
    expect(Number(r1.deadlineDays)).toBeCloseTo(31, 5);
    expect(status(requests)).toEqual({
      R1: 'on-time',
      R2: 'late',
      R3: 'overdue',
      R4: 'open',
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

  it('has a test for every named query', () => {
    expect(NAMED_QUERIES.map((q) => q.name).sort()).toEqual([
      'erasure-requests',
      'expiries-per-category-month',
      'operations-by-subject',
      'overdue-requests',
      'rejected-events',
      'requests',
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
    expect(result.out).toBe('n\n15');
  });

  it('never writes a subject identifier: no clear id in any log object version nor its metadata', async () => {
    // Prepare
    const versions = (await listObjectVersions(s3, { bucket })).filter((v) => !v.deleteMarker);
    // Act
    const found: string[] = [];
    for (const v of versions) {
      const object = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: v.key, VersionId: v.versionId }),
      );
      const text = gunzipSync(Buffer.from(await object.Body!.transformToByteArray())).toString(
        'utf8',
      );
      const all = `${v.key} ${text} ${JSON.stringify(object.Metadata)}`;
      for (const id of [...SUBJECTS, 'person-1'])
        if (all.includes(id)) found.push(`${id} in ${v.key}`);
    }
    // Assess
    expect(versions.length).toBeGreaterThanOrEqual(7);
    expect(found).toEqual([]);
  });

  it('refuses to delete a version of a log object (Object Lock, compliance mode)', async () => {
    // Prepare
    const versions = await listObjectVersions(s3, { bucket, exactKey: chainKeys[0] });
    const version = versions[0]!;
    // Act
    const attempt = s3.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: version.key, VersionId: version.versionId }),
    );
    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('verifies the intact log: digests, chains, no duplicates', async () => {
    // Act
    const result = await cli(['log', 'verify', '--format', 'json', ...flags]);
    const today = new Date().toISOString().slice(0, 10);
    const ranged = await cli(['log', 'verify', '--from', today, '--to', today, ...flags]);
    // Assess
    const report = JSON.parse(result.out) as {
      ok: boolean;
      objects: number;
      writers: number;
      problems: unknown[];
    };
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.writers).toBeGreaterThanOrEqual(3);
    expect(result.code).toBe(0);
    expect(ranged.code).toBe(0);
    expect(ranged.out).toMatch(/intact/);
  });

  it('renders the compliance report with its charts in headless Chromium', async () => {
    // Prepare
    const chromium = '/usr/bin/chromium';
    if (!existsSync(chromium)) {
      if (process.env.CI) throw new Error('chromium is required in CI (.ci/run installs it)');
      console.warn(
        'SKIPPED: chromium not installed (apt-get install -y chromium); the report is not rendered',
      );
      return;
    }
    const file = path.join(work, 'report.html');
    // Act
    const result = await cli(['report', '--out', file, ...flags]);
    const dom = execFileSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${path.join(work, 'chromium')}`,
        '--dump-dom',
        `file://${file}`,
      ],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const screenshot = path.join(work, 'report.png');
    execFileSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${path.join(work, 'chromium')}`,
        '--window-size=1000,1400',
        `--screenshot=${screenshot}`,
        `file://${file}`,
      ],
      { timeout: 60_000, stdio: 'ignore' },
    );
    // Assess
    expect(result.code).toBe(0);
    const requestBars = dom.match(/<rect class="bar request-bar[^"]*"/g) ?? [];
    const expiryBars = dom.match(/<rect class="bar expiry-bar"/g) ?? [];
    expect(dom).toContain('<svg id="completion-chart"');
    expect(dom).toContain('<svg id="expiries-chart"');
    expect(requestBars.length).toBe(5);
    expect(expiryBars.length).toBe(3);
    expect(dom).toContain('Log verified intact');
    const png = readFileSync(screenshot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
    for (const id of SUBJECTS) expect(readFileSync(file, 'utf8')).not.toContain(id);
  });

  it('writes the Art. 30 register from the enforced retention policy', async () => {
    // Prepare
    const out = path.join(work, 'register');
    const policy = loadRetentionPolicy('config/retention-policy.json');
    // Act
    const result = await cli(['register', '--out', out]);
    // Assess
    expect(result.code).toBe(0);
    const csv = readFileSync(path.join(out, 'processing-register.csv'), 'utf8').trim().split('\n');
    const md = readFileSync(path.join(out, 'processing-register.md'), 'utf8');
    expect(csv).toHaveLength(policy.categories.length + 1);
    for (const c of policy.categories) {
      expect(md).toContain(`\`${c.id}\``);
      expect(csv.some((line) => line.includes(c.id) && line.includes(c.purpose))).toBe(true);
    }
  });

  it('detects a removed object (delete marker) and altered objects', async () => {
    // Prepare: remove the middle object of one chain (a delete marker: Object Lock allows it and
    // keeps the locked version), alter the middle object of the other chain twice: once keeping its
    // metadata (digest mismatch), then with a recomputed digest (the next object no longer links).
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: chainKeys[1] }));
    const original = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: otherChainKeys[1] }),
    );
    const text = gunzipSync(Buffer.from(await original.Body!.transformToByteArray())).toString(
      'utf8',
    );
    const altered = text.replace('"outcome":"kept"', '"outcome":"success"');
    expect(altered).not.toBe(text);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: otherChainKeys[1],
        Body: gzipSync(altered),
        Metadata: original.Metadata,
      }),
    );
    const before = await cli(['log', 'verify', '--format', 'json', ...flags]);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: otherChainKeys[1],
        Body: gzipSync(altered),
        Metadata: { ...original.Metadata, 'records-sha256': recordsDigest(altered) },
      }),
    );
    // Act
    const after = await cli(['log', 'verify', ...flags]);
    // Assess
    const report = JSON.parse(before.out) as {
      ok: boolean;
      problems: Array<{ kind: string; key?: string }>;
    };
    expect(before.code).toBe(1);
    expect(report.ok).toBe(false);
    const kinds = (key: string) => report.problems.filter((p) => p.key === key).map((p) => p.kind);
    expect(kinds(chainKeys[1]!)).toEqual(['deleted']);
    expect(kinds(chainKeys[2]!)).toEqual(['gap']);
    expect(kinds(otherChainKeys[1]!).sort()).toEqual(['digest-mismatch', 'overwritten']);
    expect(after.code).toBe(1);
    expect(after.out).toMatch(/FAILED/);
    expect(after.out).toMatch(
      new RegExp(`broken-link ${otherChainKeys[2]!.replace(/[.]/g, '\\.')}`),
    );
    expect(after.out).not.toMatch(/digest-mismatch/);
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: chainKeys[1] }),
    );
    expect(listed.Contents ?? []).toHaveLength(0);
  });

  it('says what to do when the endpoint is not there', async () => {
    // Act
    const result = await cli([
      'log',
      'verify',
      '--endpoint',
      'http://127.0.0.1:9',
      '--bucket',
      bucket,
      '--outputs',
      outputsFile,
    ]);
    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/no local endpoint at http:\/\/127\.0\.0\.1:9.*run npm start/);
  });
});
