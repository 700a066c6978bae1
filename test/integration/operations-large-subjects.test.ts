import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { readLogObjects } from '../../shared/processing-log/reader';
import { vaultRefOf } from '../../shared/retention/retention-items';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

jest.setTimeout(600_000);

/** Documents one invocation may take in these tests (the page budget, set as configuration). */
const PAGE = 5;
const DOCUMENTS = 23;

/** Type of the continuation messages an operation sends to its own queue. */
const CONTINUED = 'privacy.internal.subject-request.continued.v1';

describe('large subjects: erasure and export continue across invocations (local endpoint)', () => {
  let h: OperationsHarness;
  /** Every continuation message the operation functions were given. */
  const continuations: Array<{ fn: string; body: string }> = [];

  beforeAll(async () => {
    process.env.CONTINUATION_PAGE_DOCUMENTS = String(PAGE);
    h = await startOperationsHarness();
    h.pipeline.runtime.onInvoke(async (invocation, run) => {
      const records = (invocation.event as Partial<SQSEvent>).Records ?? [];
      for (const r of records)
        if (typeof r.body === 'string' && r.body.includes(CONTINUED))
          continuations.push({ fn: invocation.fn.name, body: r.body });
      return run(invocation.event);
    });
  });
  afterAll(async () => {
    delete process.env.CONTINUATION_PAGE_DOCUMENTS;
    await h?.stop();
  });

  /** The log objects holding a record of `requestId`, each with those records only. */
  async function recordsByObject(requestId: string): Promise<ProcessingLogRecord[][]> {
    const objects = await readLogObjects<ProcessingLogRecord>(h.s3, h.outputs.LogBucketName);
    return objects
      .map((o) => o.records.filter((r) => r.requestId === requestId))
      .filter((records) => records.length > 0);
  }

  async function seed(who: string, prefix: string, category: string, n: number) {
    const uploads = [];
    for (let i = 0; i < n; i += 1)
      uploads.push(await h.upload(who, `${prefix}-${i}`, category, `${prefix} ${i}`));
    await h.send(...uploads);
  }

  /** Sends each continuation of `fn` given so far to its queue again (a duplicate delivery). */
  async function redeliver(fn: string, queueVariable: string): Promise<number> {
    const queueUrl = h.pipeline.runtime.findFunction('intake').environment[queueVariable];
    const bodies = [...new Set(continuations.filter((c) => c.fn.includes(fn)).map((c) => c.body))];
    for (const body of bodies)
      await h.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    await h.pipeline.runtime.waitForIdle(300_000);
    return bodies.length;
  }

  it('erases a subject in pages of the budget, one record per effect, the request completed once; a continuation delivered twice adds no record', async () => {
    // Prepare: 23 case documents (erasure deletes them) and 2 invoices (kept under a legal duty)
    const who = 'emp-large-erase';
    await seed(who, 'case', 'case-document', DOCUMENTS);
    await seed(who, 'inv', 'accounting-document', 2);
    const subject = await h.pseudonym(who);
    const requestId = await h.ctx.pseudonyms.request('acme-sas', 'req-large-erase');
    // Act
    await h.send(
      h.event('privacy.erasure.requested.v1', {
        subjectId: who,
        requestId: 'req-large-erase',
        receivedAt: new Date().toISOString(),
      }),
    );
    const byObject = await recordsByObject(requestId);
    const redelivered = await redeliver('erasure', 'ERASURE_REQUEST_QUEUE_URL');
    const after = (await recordsByObject(requestId)).flat();
    const items = await h.items(who);
    const request = await h.ctx.store.getRequest(`T#acme-sas#S#${subject}`, requestId);
    // Assess: no invocation took more documents than its budget
    const erasedPerObject = byObject.map(
      (records) => records.filter((r) => r.operation === 'erased' && r.document).length,
    );
    expect(Math.max(...erasedPerObject)).toBeLessThanOrEqual(PAGE);
    expect(redelivered).toBeGreaterThanOrEqual(Math.ceil(DOCUMENTS / PAGE) - 1);
    // every document erased, one record each, and only once even after the duplicates
    const erased = after.filter((r) => r.operation === 'erased' && r.outcome === 'success');
    expect(new Set(erased.map((r) => r.document)).size).toBe(DOCUMENTS);
    expect(erased).toHaveLength(DOCUMENTS);
    expect(after.filter((r) => r.operation === 'restricted')).toHaveLength(2);
    expect(after.filter((r) => r.operation === 'shredded')).toHaveLength(1);
    expect(after.filter((r) => r.operation === 'received')).toHaveLength(1);
    const completed = after.filter((r) => r.operation === 'request-completed');
    expect(completed).toHaveLength(1);
    expect(completed[0].reason).toBe(`erased:${DOCUMENTS};restricted:2`);
    expect(Object.keys(items).sort()).toEqual(['inv-0', 'inv-1']);
    expect(await h.versions(h.outputs.VaultBucketName, `acme-sas/${subject}/case-document/`)).toBe(
      0,
    );
    expect(request).toMatchObject({ outcome: `erased:${DOCUMENTS};restricted:2` });
    expect(request?.completedAt).toBeDefined();
  });

  it("leaves a document sent after the erasure but stored before it, wherever its page: its class keeps its key, the erasure's documents of that class are deleted all the same", async () => {
    // Prepare: 12 case documents and 2 contact records sent before the erasure
    const who = 'emp-large-later';
    await seed(who, 'case', 'case-document', 12);
    await seed(who, 'contact', 'identity-contact', 2);
    // a case document sent 2 s after the erasure, stored first (its queue ran first); of the
    // candidate ids, the one listed last, so that the erasure meets it after its first page
    const sorted = async (ids: string[]) => {
      const keyed = await Promise.all(
        ids.map(async (id) => ({ id, key: await h.ctx.pseudonyms.of('acme-sas', 'document', id) })),
      );
      return keyed.sort((a, b) => (a.key < b.key ? -1 : 1)).map((k) => k.id);
    };
    const covered = await sorted(Array.from({ length: 12 }, (_, i) => `case-${i}`));
    const candidates = await sorted(Array.from({ length: 20 }, (_, i) => `case-later-${i}`));
    const later = candidates[candidates.length - 1]!;
    expect((await sorted([...covered, later])).indexOf(later)).toBeGreaterThanOrEqual(PAGE);
    const subject = await h.pseudonym(who);
    const requestId = await h.ctx.pseudonyms.request('acme-sas', 'req-large-later');
    // Act: the erasure, sent before that document, is processed after it
    await h.erasureAfterLaterUpload(who, later, 'sent after the erasure', 'req-large-later');
    const records = (await recordsByObject(requestId)).flat();
    const items = await h.items(who);
    // Assess: the later document is live and readable, everything sent before is gone
    expect(Object.keys(items)).toEqual([later]);
    expect(await h.ctx.vault.get(vaultRefOf(items[later]!))).toEqual(
      new Uint8Array(Buffer.from('sent after the erasure')),
    );
    expect(await h.versions(h.outputs.VaultBucketName, `acme-sas/${subject}/case-document/`)).toBe(
      1,
    );
    expect(
      await h.versions(h.outputs.VaultBucketName, `acme-sas/${subject}/identity-contact/`),
    ).toBe(0);
    // the contact key is shredded, the case documents' key is not (it holds the later one)
    expect(records.filter((r) => r.operation === 'shredded').map((r) => r.category)).toEqual([
      'identity-contact',
    ]);
    const erased = records.filter((r) => r.operation === 'erased' && r.outcome === 'success');
    expect(erased).toHaveLength(14);
    expect(erased.map((r) => r.document)).not.toContain(items[later]!.document);
    expect(records.filter((r) => r.operation === 'request-completed')[0]?.reason).toBe(
      'erased:14;restricted:0',
    );
  });

  it('exports a subject in pages of the budget into one export (one manifest listing every document), one record per document; a continuation delivered twice adds none', async () => {
    // Prepare
    const who = 'emp-large-access';
    await seed(who, 'ctr', 'contract', DOCUMENTS);
    const subject = await h.pseudonym(who);
    const requestId = await h.ctx.pseudonyms.request('acme-sas', 'req-large-access');
    // Act
    await h.send(
      h.event('privacy.access.requested.v1', {
        subjectId: who,
        requestId: 'req-large-access',
        receivedAt: new Date().toISOString(),
      }),
    );
    const byObject = await recordsByObject(requestId);
    const redelivered = await redeliver('access', 'ACCESS_REQUEST_QUEUE_URL');
    const after = (await recordsByObject(requestId)).flat();
    const keys = await h.listKeys(h.outputs.ExportBucketName, `acme-sas/${subject}/`);
    const manifestKeys = keys.filter((k) => k.endsWith('/manifest.json'));
    const manifest = JSON.parse(await h.getText(h.outputs.ExportBucketName, manifestKeys[0]));
    // Assess
    const exportedPerObject = byObject.map(
      (records) => records.filter((r) => r.operation === 'exported').length,
    );
    expect(Math.max(...exportedPerObject)).toBeLessThanOrEqual(PAGE);
    expect(redelivered).toBeGreaterThanOrEqual(Math.ceil(DOCUMENTS / PAGE) - 1);
    const exported = after.filter((r) => r.operation === 'exported' && r.outcome === 'success');
    expect(exported).toHaveLength(DOCUMENTS);
    expect(new Set(exported.map((r) => r.document)).size).toBe(DOCUMENTS);
    expect(after.filter((r) => r.operation === 'request-completed')).toHaveLength(1);
    expect(manifestKeys).toHaveLength(1);
    expect(manifest.documents).toHaveLength(DOCUMENTS);
    expect(new Set(manifest.documents.map((d: { documentId: string }) => d.documentId)).size).toBe(
      DOCUMENTS,
    );
    expect(keys.filter((k) => k.includes('/documents/'))).toHaveLength(DOCUMENTS);
    expect(await h.getText(h.outputs.ExportBucketName, manifest.documents[7].file)).toBe(
      `${manifest.documents[7].documentId.replace('-', ' ')}`,
    );
  });

  it('exports before a closure in pages into one export, then starts the clocks once, on the last page', async () => {
    // Prepare
    const who = 'emp-large-closure';
    await seed(who, 'ctr', 'contract', DOCUMENTS);
    const subject = await h.pseudonym(who);
    const closure = h.event('privacy.account.closed.v1', {
      subjectId: who,
      closedAt: new Date().toISOString(),
      exportBeforeDeletion: true,
    });
    // Act
    await h.send(closure);
    const objects = await readLogObjects<ProcessingLogRecord>(h.s3, h.outputs.LogBucketName);
    const byObject = objects
      .map((o) => o.records.filter((r) => r.eventId === closure.id))
      .filter((records) => records.length > 0);
    const records = byObject.flat();
    const keys = await h.listKeys(h.outputs.ExportBucketName, `acme-sas/${subject}/closure-`);
    const manifestKey = keys.find((k) => k.endsWith('/manifest.json'))!;
    const manifest = JSON.parse(await h.getText(h.outputs.ExportBucketName, manifestKey));
    // Assess
    expect(
      Math.max(...byObject.map((rs) => rs.filter((r) => r.operation === 'exported').length)),
    ).toBeLessThanOrEqual(PAGE);
    expect(records.filter((r) => r.operation === 'exported')).toHaveLength(DOCUMENTS);
    expect(records.filter((r) => r.operation === 'received')).toHaveLength(1);
    expect(records.filter((r) => r.operation === 'stored')).toHaveLength(DOCUMENTS);
    expect(manifest.documents).toHaveLength(DOCUMENTS);
  });

  it('refuses a continuation sent by a producer at intake (an internal type), never forwarding it', async () => {
    // Prepare: an internal continuation event, as a producer might forge it
    const forged = h.event(CONTINUED, { operation: 'erasure', page: 1 });
    // Act
    await h.send(forged);
    const rejected = (await h.logs()).filter(
      (r) => r.eventId === forged.id && r.operation === 'rejected',
    );
    // Assess
    expect(rejected).toHaveLength(1);
    expect(rejected[0].reason).toBe('unknown-type');
  });
});
