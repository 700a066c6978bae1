import { startOperationsHarness, type OperationsHarness } from './operations-harness';

/**
 * "Never log a person": with every handler at DEBUG level, a run through every operation, a
 * rejection and a sweep writes nothing to the application logs (stdout/stderr) that names the
 * subject, the file or its content.
 */
describe('application logs carry no personal data', () => {
  const subjectId = 'pii-subject-7Q3Z';
  const uploadFile = 'pii-file-name-K9W2';
  const content = 'pii-content-receipt-of-Jeanne-Dupont';
  const captured: string[] = [];
  const originals = {
    stdout: process.stdout.write.bind(process.stdout),
    stderr: process.stderr.write.bind(process.stderr),
    log: console.log,
    info: console.info,
    warn: console.warn,
    error: console.error,
    debug: console.debug,
  };
  let harness: OperationsHarness;

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    const capture = (chunk: unknown): boolean => {
      captured.push(
        typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'),
      );
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      console[level] = (...args: unknown[]) =>
        void capture(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    }
    harness = await startOperationsHarness();
  });

  afterAll(async () => {
    await harness?.stop();
    process.stdout.write = originals.stdout;
    process.stderr.write = originals.stderr;
    Object.assign(console, {
      log: originals.log,
      info: originals.info,
      warn: originals.warn,
      error: originals.error,
      debug: originals.debug,
    });
    delete process.env.POWERTOOLS_LOG_LEVEL;
  });

  it('logs no subject id, file name or content at DEBUG level through every operation', async () => {
    // Prepare
    const invoice = await harness.upload(
      subjectId,
      `${uploadFile}-1`,
      'accounting-document',
      content,
      { documentDate: '2026-01-15' },
    );
    const caseFile = await harness.upload(subjectId, `${uploadFile}-2`, 'case-document', content);
    const foreign = harness.event('privacy.document.uploaded.v1', {
      subjectId,
      documentId: `${uploadFile}-3`,
      category: 'case-document',
      upload: { bucket: harness.outputs.UploadBucketName, key: `other-tenant/${uploadFile}-3.pdf` },
    });
    // Act
    await harness.send(invoice, caseFile, foreign);
    await harness.send(
      harness.event('privacy.legal-hold.placed.v1', {
        subjectId,
        holdId: 'hold-1',
        reason: 'litigation',
      }),
      harness.event('privacy.legal-hold.released.v1', {
        subjectId,
        holdId: 'hold-1',
        reason: 'litigation',
      }),
    );
    await harness.send(
      harness.event('privacy.access.requested.v1', {
        subjectId,
        requestId: 'req-access-1',
        receivedAt: new Date().toISOString(),
      }),
      harness.event('privacy.account.closed.v1', {
        subjectId,
        closedAt: new Date().toISOString(),
        exportBeforeDeletion: true,
      }),
    );
    await harness.send(
      harness.event('privacy.erasure.requested.v1', {
        subjectId,
        requestId: 'req-erase-1',
        receivedAt: new Date().toISOString(),
      }),
    );
    await harness.sweep(new Date(Date.now() + 400 * 24 * 3600 * 1000).toISOString());
    // Assess
    const output = captured.join('\n');
    // The handlers did log at DEBUG and INFO: there is something to scan.
    expect(output).toContain('"log entries"');
    expect(output).toContain('"event processed"');
    expect(output).toContain('"batch triaged"');
    expect(output).not.toContain(subjectId);
    expect(output).not.toContain(uploadFile);
    expect(output).not.toContain(content);
    const records = await harness.logs();
    expect(records.filter((r) => r.operation === 'rejected')).toHaveLength(1);
    expect(records.some((r) => r.operation === 'request-completed')).toBe(true);
  });
});
