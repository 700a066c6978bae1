import { listObjectVersions } from '../../shared/aws/object-versions';
import { recordsDigest } from '../../shared/processing-log/writer';
import { loadRetentionPolicy } from '../../shared/retention/policy';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { cli, SUBJECTS, startLogAudit, type LogAudit } from './log-audit-fixture';

describe('processing log: no person in clear, locked, verified, reported', () => {
  let audit: LogAudit;
  let flags: string[];
  let outputsFile: string;
  let s3: LogAudit['s3'];
  let bucket: string;
  let work: string;
  let chainKeys: string[];
  let otherChainKeys: string[];

  beforeAll(async () => {
    // Prepare: real runs and synthetic records in the log (see startLogAudit)
    audit = await startLogAudit();
    ({ flags, outputsFile, s3, bucket, work, chainKeys, otherChainKeys } = audit);
  }, 180_000);

  afterAll(() => audit?.stop());

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
    const headless = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${path.join(work, 'chromium')}`,
    ];
    // Act
    const result = await cli(['report', '--out', file, ...flags]);
    const dom = execFileSync(chromium, [...headless, '--dump-dom', `file://${file}`], {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const screenshot = path.join(work, 'report.png');
    execFileSync(
      chromium,
      [...headless, '--window-size=1000,1400', `--screenshot=${screenshot}`, `file://${file}`],
      { timeout: 60_000, stdio: 'ignore' },
    );
    // Assess
    expect(result.code).toBe(0);
    const requestBars = dom.match(/<rect class="bar request-bar[^"]*"/g) ?? [];
    const expiryBars = dom.match(/<rect class="bar expiry-bar"/g) ?? [];
    expect(dom).toContain('<svg id="completion-chart"');
    expect(dom).toContain('<svg id="expiries-chart"');
    expect(requestBars.length).toBe(6);
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
