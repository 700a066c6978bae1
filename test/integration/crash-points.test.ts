import { registerClientPlugin } from '../../shared/aws/client-config';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { isLive, vaultRefOf, type DocumentItem } from '../../shared/retention/retention-items';
import { FaultInjector } from '../support/fault-injector';
import { freshInstance, LogTail, sqsEvent, ttlRemoval, type CrashFunction } from './crash-harness';
import { erasureProblems, prepareErasureSubject } from './erasure-scenario';
import { atEveryCall, crashThenRetry as crashedRun, RetryClock } from './paged-crash-driver';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';
import { exactly, noDuplicateIds } from './record-checks';
import { storedWithoutFaults, type StoreDocument } from './stored-documents';

jest.setTimeout(900_000);

/**
 * Crash points: for each function that destroys or stores data (erasure, expiry by the sweeper and
 * by the TTL stream, upload), the invocation is killed at every SDK call index in turn (the calls
 * before it took effect, nothing after it ran), then retried without faults as the queue, the
 * stream or the schedule would. Whatever the crash point, every effect ends up with exactly one
 * processing-log record (none missing, none doubled) and nothing that should be gone survives.
 */
describe('crash points: every effect logged once, whatever call the function dies at', () => {
  const injector = new FaultInjector();
  let unregister: () => void;
  let h: OperationsHarness;
  let tail: LogTail;
  /** Stores a document through the upload function (no fault); returns its item. */
  let stored: StoreDocument;
  /**
   * The clock of the functions: each retry comes 16 minutes later, past any in-flight window (a
   * sweep may run 15).
   */
  const clock = new RetryClock();
  let runs = 0;

  beforeAll(async () => {
    unregister = registerClientPlugin(injector);
    h = await startOperationsHarness();
    tail = new LogTail(h.s3, h.outputs.LogBucketName);
    stored = storedWithoutFaults(h, injector, clock.now);
  });
  afterAll(async () => {
    await h?.stop();
    unregister?.();
  });

  const instance = (fn: CrashFunction) => freshInstance(h.pipeline, fn, clock.now);

  /**
   * Runs `fn` on `event` crashing at call `crashAt`, then retries it without faults (a fresh
   * instance, 16 minutes later each time) until it succeeds; returns the new log records.
   */
  async function crashThenRetry(fn: CrashFunction, event: unknown, crashAt?: number) {
    const run = await crashedRun(injector, clock, () => instance(fn), event, crashAt);
    const records = await tail.next();
    return { ...run, records };
  }

  async function versions(bucket: string, prefix: string): Promise<number> {
    return h.versions(bucket, prefix);
  }

  it('erasure: every deletion, shred, copy removal and restriction logged once, nothing left', async () => {
    const scenario = async (crashAt?: number) => {
      runs += 1;
      // Prepare: two case documents, an invoice kept under a legal duty, an access export, an
      // upload a crashed upload left, a vault object without an item
      const erased = await prepareErasureSubject(h, stored, `crash-erase-${runs}`, 2);
      await tail.next();
      // Act
      const message = sqsEvent(`m-${erased.who}`, erased.event);
      const run = await crashThenRetry('erasure-request', message, crashAt);
      // Assess
      const problems = [
        ...(run.failed ? ['the retries did not succeed'] : []),
        ...(await erasureProblems(h, erased, run.records, 'erased:2;restricted:1')),
      ];
      return { calls: run.first.calls, problems };
    };
    await atEveryCall(scenario);
  });

  it('upload: one received and one stored record, the item active over a readable document', async () => {
    const scenario = async (crashAt?: number) => {
      runs += 1;
      const who = `crash-upload-${runs}`;
      const subject = await h.pseudonym(who);
      const documentId = `${who}-doc`;
      const event = await h.upload(who, documentId, 'case-document', `content of ${documentId}`);
      await tail.next();
      // Act
      const run = await crashThenRetry('document-upload', sqsEvent(`m-${who}`, event), crashAt);
      // Assess
      const mine = run.records.filter((r) => r.eventId === event.id);
      const item: DocumentItem | undefined = (await h.items(who))[documentId];
      const text = item
        ? await h.ctx.vault.get(vaultRefOf(item)).then(
            (b) => Buffer.from(b).toString(),
            () => 'unreadable',
          )
        : 'no item';
      const problems = [
        ...(run.failed ? ['the retries did not succeed'] : []),
        ...exactly(
          mine.filter((r) => r.operation === 'received'),
          'received',
          1,
        ),
        ...exactly(
          mine.filter((r) => r.operation === 'stored'),
          'stored',
          1,
        ),
        ...noDuplicateIds(mine),
        ...(text === `content of ${documentId}` ? [] : [`document: ${text}`]),
        ...(item?.state === 'waiting-anchor' ? [] : [`item state ${item?.state}`]),
      ];
      const upload = await versions(h.outputs.UploadBucketName, `acme-sas/incoming/${documentId}`);
      const markers = await h.ctx.store.listUploadMarkers('acme-sas', subject);
      if (upload > 0 || markers.length > 0)
        problems.push(`left behind: ${upload} upload versions, ${markers.length} markers`);
      return { calls: run.first.calls, problems };
    };
    await atEveryCall(scenario);
  });

  /** Two training records long past their ten years: due now; the second takes the key with it. */
  async function dueDocuments(who: string): Promise<DocumentItem[]> {
    return [
      await stored(who, `${who}-t1`, 'training-attendance', '2010-01-10'),
      await stored(who, `${who}-t2`, 'training-attendance', '2010-01-11'),
    ];
  }

  /** Problems after an expiry: one `expired` per document, one `shredded`, nothing left. */
  async function expiryProblems(
    who: string,
    documents: DocumentItem[],
    records: ProcessingLogRecord[],
    failed: boolean,
  ): Promise<string[]> {
    const subject = await h.pseudonym(who);
    const mine = records.filter((r) => r.subject === subject);
    const problems = [
      ...(failed ? ['the retries did not succeed'] : []),
      ...documents.flatMap((d) =>
        exactly(
          mine.filter(
            (r) =>
              r.operation === 'expired' && r.outcome === 'success' && r.document === d.document,
          ),
          `the expiry of ${d.documentId}`,
          1,
        ),
      ),
      ...exactly(
        mine.filter((r) => r.operation === 'shredded'),
        'the shred',
        1,
      ),
      ...noDuplicateIds(mine),
    ];
    const vault = await versions(h.outputs.VaultBucketName, `acme-sas/${subject}/`);
    // A claim may stay (not live) until the sweeper forgets it: no live item is left.
    const items = Object.values(await h.items(who)).filter((d) => isLive(d.state)).length;
    const key = !(await h.ctx.vault.isShredded('acme-sas', subject, 'training-attendance'));
    if (vault > 0 || items > 0 || key)
      problems.push(`left behind: ${JSON.stringify({ vault, items, key })}`);
    return problems;
  }

  it('expiry by the sweeper: one expired record per document and one shred, nothing left', async () => {
    const scenario = async (crashAt?: number) => {
      runs += 1;
      const who = `crash-sweep-${runs}`;
      const documents = await dueDocuments(who);
      await tail.next();
      // Act
      const run = await crashThenRetry('sweep', undefined, crashAt);
      // Assess
      return {
        calls: run.first.calls,
        problems: await expiryProblems(who, documents, run.records, run.failed),
      };
    };
    await atEveryCall(scenario);
  });

  it('expiry by the TTL stream: one expired record per document and one shred, nothing left', async () => {
    const scenario = async (crashAt?: number) => {
      runs += 1;
      const who = `crash-ttl-${runs}`;
      const documents = await dueDocuments(who);
      // TTL removes both items; the stream hands their old images over in one batch
      for (const d of documents) await h.ctx.store.deleteDocument(d);
      const event = {
        Records: documents.flatMap((d, i) => ttlRemoval(d, `${runs}${i}`).Records),
      };
      await tail.next();
      // Act
      const run = await crashThenRetry('retention-expiry', event, crashAt);
      // Assess
      return {
        calls: run.first.calls,
        problems: await expiryProblems(who, documents, run.records, run.failed),
      };
    };
    await atEveryCall(scenario);
  });
});
