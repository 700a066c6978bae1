import { S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runCli } from '../../cli/main';
import type { LocalPipeline } from '../../local/environment';
import { ProcessingLogWriter, type LogEntry } from '../../shared/processing-log/writer';
import { startTestPipeline } from '../helpers/local-pipeline';

jest.setTimeout(180_000);

/** Debian's Chromium, driven by playwright-core (no browser download). */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const DAY = 86_400_000;
const ERASURE = 'privacy.erasure.requested.v1';
const SUBJECT = 'a'.repeat(64);

/** Runs the CLI in-process and captures its output. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A request received at `received`, due `deadlineDays` later, completed after `days` (or open). */
function request(
  tenant: string,
  id: string,
  received: string,
  deadlineDays: number,
  days: number | null,
): LogEntry[] {
  const at = Date.parse(received);
  const common = {
    tenant,
    subject: SUBJECT,
    requestId: id,
    eventId: `evt-${id}`,
    eventSource: '/crm',
  };
  return [
    {
      ...common,
      operation: 'received',
      outcome: 'success',
      eventType: ERASURE,
      time: received,
      deadline: new Date(at + deadlineDays * DAY).toISOString(),
    },
    ...(days === null
      ? []
      : [
          {
            ...common,
            operation: 'request-completed' as const,
            outcome: 'success' as const,
            time: new Date(at + days * DAY).toISOString(),
          },
        ]),
  ];
}

const event = (
  tenant: string,
  operation: 'expired' | 'rejected',
  time: string,
  what: string,
  n: number,
): LogEntry => ({
  tenant,
  operation,
  outcome: operation === 'expired' ? 'success' : 'rejected',
  eventId: `${operation}-${tenant}-${n}`,
  ...(operation === 'expired' ? { category: what, subject: SUBJECT } : { reason: what }),
  time,
});

/** The synthetic log: ordinary requests, one with an outlying deadline, expiries and rejections. */
function records(): LogEntry[] {
  const acme = [
    request('acme-sas', 'R1', '2026-09-01T10:00:00.000Z', 31, 15),
    request('acme-sas', 'R2', '2026-09-10T10:00:00.000Z', 30, 2),
    request('acme-sas', 'R3', '2026-10-01T10:00:00.000Z', 31, 28),
    request('acme-sas', 'R4', '2026-10-05T10:00:00.000Z', 31, 40),
    request('acme-sas', 'R-far', '2026-10-10T10:00:00.000Z', 400, 20),
    request('acme-sas', 'R6', '2026-11-20T10:00:00.000Z', 31, null),
    request('acme-sas', 'R-slow', '2026-08-01T10:00:00.000Z', 31, 90),
  ].flat();
  const beta = [
    request('beta-gmbh', 'B1', '2026-10-02T10:00:00.000Z', 31, 10),
    request('beta-gmbh', 'B2', '2026-11-02T10:00:00.000Z', 30, 3),
  ].flat();
  const expiries = [
    ['2026-09-03T00:00:00.000Z', 'payroll-document'],
    ['2026-10-03T00:00:00.000Z', 'payroll-document'],
    ['2026-10-04T00:00:00.000Z', 'case-document'],
    ['2026-11-05T00:00:00.000Z', 'case-document'],
  ].map(([time, category], i) => event('acme-sas', 'expired', time!, category!, i));
  const rejections = [
    ['acme-sas', '2026-10-07T00:00:00.000Z', 'invalid-json'],
    ['acme-sas', '2026-11-07T00:00:00.000Z', 'invalid-json'],
    ['acme-sas', '2026-11-08T00:00:00.000Z', 'unknown-category'],
    ['beta-gmbh', '2026-11-09T00:00:00.000Z', 'upload-missing'],
  ].map(([tenant, time, reason], i) => event(tenant!, 'rejected', time!, reason!, i));
  return [...acme, ...beta, ...expiries, ...rejections];
}

describe('compliance report rendered in headless Chromium (local endpoint)', () => {
  let pipeline: LocalPipeline;
  let s3: S3Client;
  let browser: Browser;
  let work: string;
  let flags: string[];

  beforeAll(async () => {
    pipeline = await startTestPipeline({ startRuntime: false });
    const { outputs } = pipeline.environment;
    s3 = new S3Client({
      endpoint: pipeline.endpoint,
      region: 'eu-west-3',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      forcePathStyle: true,
    });
    const writer = new ProcessingLogWriter({
      s3,
      bucket: outputs.LogBucketName!,
      actor: 'report-test',
    });
    writer.begin();
    for (const entry of records()) writer.add(entry);
    await writer.flush();
    work = mkdtempSync(path.join(tmpdir(), 'report-'));
    const file = path.join(work, 'outputs.json');
    writeFileSync(
      file,
      JSON.stringify({ endpoint: pipeline.endpoint, region: 'eu-west-3', ...outputs }),
    );
    flags = ['--outputs', file];
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
    s3?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Writes the report with `args` and opens it in a page of the browser. */
  async function open(name: string, args: string[] = []): Promise<Page> {
    const file = path.join(work, `${name}.html`);
    const result = await cli(['report', '--out', file, ...args, ...flags]);
    expect(result.code).toBe(0);
    const page = await browser.newPage({ viewport: { width: 1000, height: 1800 } });
    await page.goto(`file://${file}`);
    await page.screenshot({ path: path.join(work, `${name}.png`), fullPage: true });
    return page;
  }

  const boxes = async (page: Page, selector: string) => {
    const all = page.locator(selector);
    const found = [];
    for (let i = 0; i < (await all.count()); i += 1) found.push((await all.nth(i).boundingBox())!);
    return found;
  };

  it('scales the request chart to the deadline window: every bar visible, the outlier clipped and labelled', async () => {
    // Act
    const page = await open('all');
    const bars = await boxes(page, '#completion-chart rect.request-bar');
    const chart = (await page.locator('#completion-chart').boundingBox())!;
    const outlier = page.locator('#completion-chart text.outlier-label', {
      hasText: 'deadline 400 d',
    });
    const slow = page.locator('#completion-chart text.outlier-label', { hasText: /^\d+ d/ });
    // Assess: 9 requests, none squeezed: the 15-day one spans more than 100 px
    expect(bars).toHaveLength(9);
    for (const bar of bars) expect(bar.width).toBeGreaterThanOrEqual(2);
    const r1 = (await page.locator('#completion-chart rect.request-bar').nth(0).boundingBox())!;
    expect(r1.width).toBeGreaterThan(100);
    await expect(outlier.isVisible()).resolves.toBe(true);
    const labels = [
      (await outlier.boundingBox())!,
      ...(await boxes(page, '#completion-chart text.caption')),
    ];
    for (const label of labels)
      expect(label.x + label.width).toBeLessThanOrEqual(chart.x + chart.width);
    await expect(slow.count()).resolves.toBe(1);
    await expect(
      page.locator('#completion-chart text.tick', { hasText: /^49d$/ }).isVisible(),
    ).resolves.toBe(true);
    await page.close();
  });

  it('shows expiries and rejections over time, with their legends', async () => {
    // Act
    const page = await open('over-time');
    const expiries = await boxes(page, '#expiries-chart rect.expiry-bar');
    const rejections = await boxes(page, '#rejections-chart rect.rejection-bar');
    // Assess: one segment per month and category / reason
    expect(expiries).toHaveLength(4);
    expect(rejections).toHaveLength(4);
    for (const bar of [...expiries, ...rejections]) {
      expect(bar.width).toBeGreaterThan(10);
      expect(bar.height).toBeGreaterThan(10);
    }
    for (const legend of ['payroll-document', 'case-document'])
      await expect(
        page.locator('#expiries-chart text.legend-label', { hasText: legend }).isVisible(),
      ).resolves.toBe(true);
    for (const legend of ['invalid-json', 'unknown-category', 'upload-missing'])
      await expect(
        page.locator('#rejections-chart text.legend-label', { hasText: legend }).isVisible(),
      ).resolves.toBe(true);
    await expect(
      page.locator('#rejections-chart text.period', { hasText: '2026-11' }).isVisible(),
    ).resolves.toBe(true);
    await page.close();
  });

  it("filters to one tenant's records with --tenant", async () => {
    // Act
    const page = await open('beta', ['--tenant', 'beta-gmbh']);
    const bars = await boxes(page, '#completion-chart rect.request-bar');
    const text = await page.locator('body').innerText();
    // Assess
    await expect(page.locator('h1 #tenant').innerText()).resolves.toBe('beta-gmbh');
    expect(bars).toHaveLength(2);
    expect(await boxes(page, '#rejections-chart rect.rejection-bar')).toHaveLength(1);
    await expect(page.locator('#expiries-chart-empty').isVisible()).resolves.toBe(true);
    expect(text).not.toContain('acme-sas');
    await page.close();
  });
});
