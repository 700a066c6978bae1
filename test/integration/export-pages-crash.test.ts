import { registerClientPlugin } from '../../shared/aws/client-config';
import type { ManifestDocument } from '../../shared/operations/subject-export';
import { subjectKey, type DocumentItem } from '../../shared/retention/retention-items';
import { FaultInjector } from '../support/fault-injector';
import { LogTail } from './crash-harness';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';
import {
  atEveryPageCall,
  pagedDriver,
  RetryClock,
  type PageCrash,
  type PagedCrashDriver,
} from './paged-crash-driver';
import { exactly, noDuplicateIds } from './record-checks';
import { storedWithoutFaults, type StoreDocument } from './stored-documents';

jest.setTimeout(1_800_000);

/** Documents one export invocation takes here (the page budget, set as configuration). */
const PAGE = 2;

/**
 * Crash points of a paged export: an access request, or a closure exported before deletion, for a
 * subject with more documents than one invocation takes is exported in pages, each sent on as a
 * continuation message. Its invocations are killed at every SDK call of every page in turn, each
 * retried without faults as the queue would, and every continuation is delivered twice. Whatever
 * the crash point, the event is received once, each document has exactly one `exported` record,
 * the request is completed once (the closure's clocks started once), and the export the subject
 * or the controller downloads (its manifest) lists every document once, each readable.
 */
describe('paged export: every document exported and logged once, whatever call of whatever page dies', () => {
  const injector = new FaultInjector();
  let unregister: () => void;
  let h: OperationsHarness;
  let tail: LogTail;
  const clock = new RetryClock();
  /** The access request and the closure, each run page by page on its own queue. */
  let access: PagedCrashDriver;
  let closure: PagedCrashDriver;
  /** Stores a document through the upload function (no fault); returns its item. */
  let stored: StoreDocument;
  let runs = 0;

  beforeAll(async () => {
    unregister = registerClientPlugin(injector);
    h = await startOperationsHarness();
    tail = new LogTail(h.s3, h.outputs.LogBucketName);
    access = await pagedDriver(h, injector, clock, 'access-request', PAGE);
    closure = await pagedDriver(h, injector, clock, 'account-closure', PAGE);
    stored = storedWithoutFaults(h, injector, clock.now);
  });
  afterAll(async () => {
    await h?.stop();
    unregister?.();
  });

  /** What is wrong with the export the subject downloads: its one manifest and its documents. */
  async function exportProblems(
    subject: string,
    kind: 'access' | 'closure',
    documents: DocumentItem[],
  ): Promise<string[]> {
    const keys = await h.listKeys(h.outputs.ExportBucketName, `acme-sas/${subject}/${kind}-`);
    const manifests = keys.filter((k) => k.endsWith('/manifest.json'));
    if (manifests.length !== 1) return [`${manifests.length} manifests, not 1`];
    const manifest = JSON.parse(await h.getText(h.outputs.ExportBucketName, manifests[0])) as {
      documents: ManifestDocument[];
    };
    const listed = manifest.documents.map((d) => d.documentId);
    const expected = documents.map((d) => d.documentId).sort();
    const problems =
      JSON.stringify(listed) === JSON.stringify(expected)
        ? []
        : [`the manifest lists ${JSON.stringify(listed)}, not ${JSON.stringify(expected)}`];
    for (const d of manifest.documents) {
      const text = d.file
        ? await h.getText(h.outputs.ExportBucketName, d.file).catch(() => 'missing')
        : `no file (${d.unreadableReason})`;
      if (text !== `content of ${d.documentId}`) problems.push(`${d.documentId}: ${text}`);
    }
    return problems;
  }

  /** One access request of a fresh subject, crashing where told; what is wrong afterwards. */
  async function accessScenario(crash?: PageCrash) {
    runs += 1;
    const who = `paged-export-${runs}`;
    const subject = await h.pseudonym(who);
    // Prepare: five documents (three pages of two), one kept under a legal duty
    const documents = [];
    for (let i = 1; i <= 4; i += 1)
      documents.push(await stored(who, `${who}-c${i}`, 'case-document'));
    documents.push(await stored(who, `${who}-inv`, 'accounting-document', '2026-02-10'));
    await tail.next();
    const requestId = `req-${who}`;
    const event = h.event('privacy.access.requested.v1', {
      subjectId: who,
      requestId,
      receivedAt: new Date().toISOString(),
    });
    // Act
    const run = await access.run(who, event, crash);
    // Assess
    const request = await h.ctx.pseudonyms.request('acme-sas', requestId);
    const mine = (await tail.next()).filter((r) => r.requestId === request);
    const exported = mine.filter((r) => r.operation === 'exported');
    const item = await h.ctx.store.getRequest(subjectKey('acme-sas', subject), request);
    const problems = [
      ...(run.failed ? ['the retries did not succeed'] : []),
      ...(run.calls.length >= 3 ? [] : [`${run.calls.length} page(s), not 3 or more`]),
      ...exactly(
        mine.filter((r) => r.operation === 'received'),
        'received',
        1,
      ),
      ...exactly(exported, 'exported', documents.length),
      ...documents.flatMap((d) =>
        exactly(
          exported.filter((r) => r.document === d.document && r.outcome === 'success'),
          `the export of ${d.documentId}`,
          1,
        ),
      ),
      ...exactly(
        mine.filter((r) => r.operation === 'request-completed' && r.reason === 'exported:5'),
        'the completion (exported:5)',
        1,
      ),
      ...exactly(
        mine.filter((r) => r.operation === 'request-completed'),
        'request-completed',
        1,
      ),
      ...noDuplicateIds(mine),
      ...(item?.completedAt && item.outcome === 'exported:5'
        ? []
        : [
            `the request item: ${JSON.stringify({ completed: item?.completedAt, outcome: item?.outcome })}`,
          ]),
      ...(await exportProblems(subject, 'access', documents)),
    ];
    return { calls: run.calls, problems };
  }

  /**
   * One closure exported before deletion, of a fresh subject, crashing where told; what is wrong
   * afterwards.
   */
  async function closureScenario(crash?: PageCrash) {
    runs += 1;
    const who = `paged-closure-${runs}`;
    const subject = await h.pseudonym(who);
    // Prepare: three documents (two pages of two): two contracts (counted from the closure), an
    // invoice (counted from its own date)
    const documents = [
      await stored(who, `${who}-k1`, 'contract'),
      await stored(who, `${who}-k2`, 'contract'),
      await stored(who, `${who}-inv`, 'accounting-document', '2026-02-10'),
    ];
    await tail.next();
    const closedAt = new Date().toISOString();
    const event = h.event('privacy.account.closed.v1', {
      subjectId: who,
      closedAt,
      exportBeforeDeletion: true,
    });
    // Act
    const run = await closure.run(who, event, crash);
    // Assess
    const mine = (await tail.next()).filter((r) => r.eventId === event.id);
    const exported = mine.filter((r) => r.operation === 'exported');
    const kept = mine.filter((r) => r.operation === 'stored' && r.outcome === 'kept');
    const items = await h.items(who);
    const fiveYearsOn = new Date(closedAt);
    fiveYearsOn.setUTCFullYear(fiveYearsOn.getUTCFullYear() + 5);
    const problems = [
      ...(run.failed ? ['the retries did not succeed'] : []),
      ...(run.calls.length >= 2 ? [] : [`${run.calls.length} page(s), not 2 or more`]),
      ...exactly(
        mine.filter((r) => r.operation === 'received'),
        'received',
        1,
      ),
      ...exactly(exported, 'exported', documents.length),
      ...exactly(kept, 'kept', documents.length),
      ...documents.flatMap((d) => [
        ...exactly(
          exported.filter((r) => r.document === d.document && r.outcome === 'success'),
          `the export of ${d.documentId}`,
          1,
        ),
        ...exactly(
          kept.filter((r) => r.document === d.document),
          `the clock of ${d.documentId}`,
          1,
        ),
      ]),
      ...noDuplicateIds(mine),
      ...[`${who}-k1`, `${who}-k2`].flatMap((id) => {
        const due = items[id]?.dueAt;
        const off = due ? Math.abs(Date.parse(due) - fiveYearsOn.getTime()) : Infinity;
        return off <= 2 * 86_400_000 ? [] : [`${id} due ${due}, not five years after the closure`];
      }),
      ...(await exportProblems(subject, 'closure', documents)),
    ];
    return { calls: run.calls, problems };
  }

  it('exports across several invocations of the page budget, one record per document, completed once, every document in the export once, at every crash point of every page', async () => {
    await atEveryPageCall(accessScenario);
  });

  it('exports before a closure across several invocations of the page budget, one record per document, the clocks started once, every document in the export once, at every crash point of every page', async () => {
    await atEveryPageCall(closureScenario);
  });
});
