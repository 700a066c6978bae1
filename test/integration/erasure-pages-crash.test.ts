import { PutObjectCommand } from '@aws-sdk/client-s3';
import { registerClientPlugin } from '../../shared/aws/client-config';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { subjectKey, uploadMarkerKey, vaultRefOf } from '../../shared/retention/retention-items';
import { FaultInjector } from '../support/fault-injector';
import { attempt, freshInstance, LogTail, sqsEvent } from './crash-harness';
import {
  ContinuationInbox,
  everyCrashPoint,
  pageCrashPoints,
  PagedCrashDriver,
  RetryClock,
  type PageCrash,
} from './paged-crash-driver';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

jest.setTimeout(1_800_000);

/** Documents one erasure invocation takes here (the page budget, set as configuration). */
const PAGE = 2;

/**
 * Crash points of a paged erasure: a subject with more documents than one invocation takes is
 * erased in pages, each sent on as a continuation message. Its invocations are killed at every SDK
 * call of every page in turn (a crash between pages is a crash at the send of the next page, or
 * at the write of the page's log object), each retried without faults as the queue would, and
 * every continuation is delivered twice. Whatever the crash point, every effect has exactly one
 * record, the request is completed once, and nothing that should be gone survives.
 */
describe('paged erasure: every effect logged once, whatever call of whatever page dies', () => {
  const injector = new FaultInjector();
  let unregister: () => void;
  let h: OperationsHarness;
  let tail: LogTail;
  const clock = new RetryClock();
  /** The erasure run page by page on its own queue. */
  let driver: PagedCrashDriver;
  let runs = 0;

  beforeAll(async () => {
    unregister = registerClientPlugin(injector);
    h = await startOperationsHarness();
    tail = new LogTail(h.s3, h.outputs.LogBucketName);
    const inbox = await ContinuationInbox.create(h.sqs, 'paged-erasure');
    const overrides = {
      CONTINUATION_PAGE_DOCUMENTS: String(PAGE),
      CONTINUATION_QUEUE_URL: inbox.queueUrl,
    };
    driver = new PagedCrashDriver(injector, clock, inbox, () =>
      freshInstance(h.pipeline, 'erasure-request', clock.now, overrides),
    );
  });
  afterAll(async () => {
    await h?.stop();
    unregister?.();
  });

  /** Stores a document through the upload function (no fault); returns its item. */
  async function stored(who: string, documentId: string, category: string, documentDate?: string) {
    const event = await h.upload(who, documentId, category, `content of ${documentId}`, {
      ...(documentDate ? { documentDate } : {}),
    });
    const instance = freshInstance(h.pipeline, 'document-upload', clock.now);
    const outcome = await attempt(injector, instance, sqsEvent(documentId, event));
    if (outcome.failed) throw new Error(`setup upload ${documentId} failed`);
    return (await h.items(who))[documentId];
  }

  function exactly(records: ProcessingLogRecord[], what: string, count: number): string[] {
    return records.length === count ? [] : [`${records.length} records of ${what}, not ${count}`];
  }

  /** One erasure of a fresh subject, crashing where told; what is wrong afterwards. */
  async function scenario(crash?: PageCrash) {
    runs += 1;
    const who = `paged-erase-${runs}`;
    const subject = await h.pseudonym(who);
    // Prepare: four case documents (three pages of two with the invoice), an invoice kept under a
    // legal duty, an access export, an upload a crashed upload left, a vault object without item
    const cases = [];
    for (let i = 1; i <= 4; i += 1) cases.push(await stored(who, `${who}-c${i}`, 'case-document'));
    const invoice = await stored(who, `${who}-inv`, 'accounting-document', '2026-02-10');
    const exportPrefix = `acme-sas/${subject}/access-${runs}/`;
    await h.s3.send(
      new PutObjectCommand({
        Bucket: h.outputs.ExportBucketName,
        Key: `${exportPrefix}documents.json`,
        Body: 'decrypted copy',
      }),
    );
    const pendingKey = `acme-sas/incoming/${who}-pending.pdf`;
    await h.s3.send(
      new PutObjectCommand({ Bucket: h.outputs.UploadBucketName, Key: pendingKey, Body: 'p' }),
    );
    await h.ctx.store.putUploadMarker({
      pk: subjectKey('acme-sas', subject),
      sk: uploadMarkerKey(pendingKey),
      kind: 'upload',
      tenant: 'acme-sas',
      subject,
      documentId: `${who}-pending`,
      document: await h.ctx.pseudonyms.of('acme-sas', 'document', `${who}-pending`),
      category: 'case-document',
      uploadKey: pendingKey,
      eventTime: '2026-01-01T00:00:00.000Z',
    });
    await h.ctx.vault.put(
      { tenant: 'acme-sas', subject, keyClass: 'case-document', documentId: `${who}-orphan` },
      Buffer.from('orphan'),
    );
    await tail.next();
    const requestId = `req-${who}`;
    const event = h.event('privacy.erasure.requested.v1', {
      subjectId: who,
      requestId,
      receivedAt: new Date().toISOString(),
    });
    // Act
    const run = await driver.run(who, event, crash);
    // Assess
    const request = await h.ctx.pseudonyms.request('acme-sas', requestId);
    const mine = (await tail.next()).filter((r) => r.requestId === request);
    const erased = mine.filter((r) => r.operation === 'erased' && r.outcome === 'success');
    const reasonIs = (part: string) => erased.filter((r) => (r.reason ?? '').includes(part));
    const ids = mine.map((r) => r.recordId);
    const problems = [
      ...(run.failed ? ['the retries did not succeed'] : []),
      ...(run.calls.length >= 3 ? [] : [`${run.calls.length} page(s), not 3 or more`]),
      ...exactly(
        mine.filter((r) => r.operation === 'received'),
        'received',
        1,
      ),
      ...exactly(reasonIs('access-export-deleted'), 'the export removal', 1),
      ...exactly(reasonIs('pending-upload-deleted'), 'the pending upload removal', 1),
      ...exactly(reasonIs('vault-object-without-item'), 'the orphan removal', 1),
      ...cases.flatMap((c) =>
        exactly(
          reasonIs('crypto-shredded').filter((r) => r.document === c.document),
          `the erasure of ${c.documentId}`,
          1,
        ),
      ),
      ...exactly(
        mine.filter((r) => r.operation === 'shredded' && r.category === 'case-document'),
        'the shred',
        1,
      ),
      ...exactly(
        mine.filter((r) => r.operation === 'restricted' && r.document === invoice.document),
        'the restriction',
        1,
      ),
      ...exactly(
        mine.filter(
          (r) => r.operation === 'request-completed' && r.reason === 'erased:4;restricted:1',
        ),
        'the completion (erased:4;restricted:1)',
        1,
      ),
      ...(new Set(ids).size === ids.length ? [] : ['a record id logged twice']),
    ];
    const left = {
      vault: await h.versions(h.outputs.VaultBucketName, `acme-sas/${subject}/case-document/`),
      exports: await h.versions(h.outputs.ExportBucketName, `acme-sas/${subject}/`),
      upload: await h.versions(h.outputs.UploadBucketName, pendingKey),
      key: !(await h.ctx.vault.isShredded('acme-sas', subject, 'case-document')),
      marked: (await h.ctx.store.getSubject('acme-sas', subject)).destroying !== undefined,
    };
    if (left.vault + left.exports + left.upload > 0 || left.key || left.marked)
      problems.push(`left behind: ${JSON.stringify(left)}`);
    const invoiceText = await h.ctx.vault.get(vaultRefOf(invoice)).then(
      (b) => Buffer.from(b).toString(),
      () => 'unreadable',
    );
    if (invoiceText !== `content of ${who}-inv`) problems.push('the kept invoice is unreadable');
    return { calls: run.calls, problems };
  }

  it('erases across several invocations of the page budget, one record per effect, completed once, at every crash point of every page', async () => {
    const clean = await scenario();
    expect(clean.problems).toEqual([]);
    await everyCrashPoint(
      pageCrashPoints(clean.calls),
      (crash) => `page ${crash.page} call ${crash.call}`,
      async (crash) => (await scenario(crash)).problems,
    );
  });
});
