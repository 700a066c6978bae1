import { GetObjectCommand, GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DocumentUploadOperation } from '../../shared/operations/document-upload';
import { ErasureRequestOperation } from '../../shared/operations/erasure-request';
import { SubjectCopies } from '../../shared/operations/subject-copies';
import { vaultRefOf, type SubjectRecord } from '../../shared/retention/retention-items';
import { ConcurrentChangeError, RetentionStore } from '../../shared/retention/retention-store';
import { logObjectsOf } from '../../shared/processing-log/log-object-check';
import { DocumentShreddedError } from '../../shared/vault/errors';
import { vaultKeyOf } from '../../shared/vault/vault-ref';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

describe('privacy operations: erasure, access, reordering (local endpoint)', () => {
  let h: OperationsHarness;

  beforeAll(async () => {
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('erases the case documents (shredded first: unreadable even where ciphertext remains; then every version removed) and keeps the invoice restricted with its legal basis; the request is tracked to completion', async () => {
    // Prepare: an invoice and two case documents, one with an extra vault version
    const who = 'emp-erase-1';
    await h.send(
      await h.upload(who, 'inv-e', 'accounting-document', 'invoice', {
        documentDate: '2026-02-10',
      }),
    );
    await h.send(await h.upload(who, 'case-e1', 'case-document', 'case one'));
    await h.send(await h.upload(who, 'case-e2', 'case-document', 'case two'));
    const before = await h.items(who);
    const subject = await h.pseudonym(who);
    const caseKey = vaultKeyOf(vaultRefOf(before['case-e1']));
    const ciphertext = await (
      await h.s3.send(new GetObjectCommand({ Bucket: h.outputs.VaultBucketName, Key: caseKey }))
    ).Body!.transformToByteArray();
    await h.s3.send(
      new PutObjectCommand({ Bucket: h.outputs.VaultBucketName, Key: caseKey, Body: ciphertext }),
    );
    const versionsBefore = await h.versions(h.outputs.VaultBucketName, caseKey);
    // Act
    await h.send(
      h.event('privacy.erasure.requested.v1', {
        subjectId: who,
        requestId: 'req-erase-1',
        receivedAt: '2026-11-02T10:00:00Z',
      }),
    );
    const after = await h.items(who);
    const versionsAfter = await h.versions(
      h.outputs.VaultBucketName,
      `acme-sas/${subject}/case-document/`,
    );
    // the ciphertext put back where it was: still unreadable
    await h.s3.send(
      new PutObjectCommand({ Bucket: h.outputs.VaultBucketName, Key: caseKey, Body: ciphertext }),
    );
    const readAfter = await h.ctx.vault.get(vaultRefOf(before['case-e1'])).then(
      () => 'readable',
      (error: unknown) => error,
    );
    const invoice = await h.ctx.vault.get(vaultRefOf(after['inv-e']));
    const requestRef = await h.ctx.pseudonyms.request('acme-sas', 'req-erase-1');
    const request = await h.ctx.store.getRequest(`T#acme-sas#S#${subject}`, requestRef);
    const logs = (await h.logs()).filter((r) => r.requestId === requestRef);
    // Assess
    expect(versionsBefore).toBe(2);
    expect(versionsAfter).toBe(0);
    expect(readAfter).toBeInstanceOf(DocumentShreddedError);
    expect(Object.keys(after)).toEqual(['inv-e']);
    expect(after['inv-e']).toMatchObject({
      state: 'restricted',
      restricted: true,
      restrictionGround: '17(3)(b) legal obligation',
      dueAt: '2036-12-31T23:00:00.000Z',
    });
    expect(after['inv-e'].expiresAt).toBe(Date.parse('2036-12-31T23:00:00Z') / 1000);
    expect(invoice).toEqual(new Uint8Array(Buffer.from('invoice')));
    expect(request).toMatchObject({
      requestKind: 'erasure',
      deadline: '2026-12-02T10:00:00.000Z',
      outcome: 'erased:2;restricted:1',
    });
    expect(request?.completedAt).toBeDefined();
    const ops = logs.map((r) => `${r.operation}/${r.outcome}/${r.category ?? '-'}`).sort();
    expect(ops).toEqual([
      'erased/success/case-document',
      'erased/success/case-document',
      'received/success/-',
      'request-completed/success/-',
      'restricted/kept/accounting-document',
      'shredded/success/case-document',
    ]);
    const restricted = logs.find((r) => r.operation === 'restricted')!;
    expect(restricted.legalBasis).toMatch(
      /^Art\. 17\(3\)\(b\) legal obligation; Art\. 6\(1\)\(c\)/,
    );
    expect(restricted.retainUntil).toBe('2036-12-31T23:00:00.000Z');
    expect(logs.every((r) => r.deadline === '2026-12-02T10:00:00.000Z')).toBe(true);
  });

  it('answers an access request with a JSON manifest and the decrypted documents, restricted data included, tagged to expire, and logs it', async () => {
    // Prepare: the subject of the erasure above still has its restricted invoice; add a contract
    const who = 'emp-erase-1';
    await h.send(await h.upload(who, 'ctr-a', 'contract', 'the contract'));
    const subject = await h.pseudonym(who);
    // Act
    await h.send(
      h.event('privacy.access.requested.v1', {
        subjectId: who,
        requestId: 'req-access-1',
        receivedAt: '2026-11-10T08:00:00Z',
      }),
    );
    const keys = await h.listKeys(h.outputs.ExportBucketName, `acme-sas/${subject}/access-`);
    const manifestKey = keys.find((k) => k.endsWith('/manifest.json'))!;
    const manifest = JSON.parse(await h.getText(h.outputs.ExportBucketName, manifestKey));
    const tags = await h.s3.send(
      new GetObjectTaggingCommand({ Bucket: h.outputs.ExportBucketName, Key: manifestKey }),
    );
    const requestRef = await h.ctx.pseudonyms.request('acme-sas', 'req-access-1');
    const logs = (await h.logs()).filter((r) => r.requestId === requestRef);
    // Assess
    expect(keys).toHaveLength(3);
    expect(manifest).toMatchObject({ kind: 'access', subjectId: who, requestId: 'req-access-1' });
    const byId = Object.fromEntries(
      manifest.documents.map((d: { documentId: string }) => [d.documentId, d]),
    );
    expect(byId['inv-e']).toMatchObject({ restricted: true, category: 'accounting-document' });
    expect(await h.getText(h.outputs.ExportBucketName, byId['inv-e'].file)).toBe('invoice');
    expect(await h.getText(h.outputs.ExportBucketName, byId['ctr-a'].file)).toBe('the contract');
    expect(tags.TagSet).toEqual(
      expect.arrayContaining([{ Key: 'privacy-ops-kind', Value: 'access-export' }]),
    );
    expect(logs.filter((r) => r.operation === 'exported' && r.outcome === 'success')).toHaveLength(
      2,
    );
    expect(logs.find((r) => r.operation === 'request-completed')).toMatchObject({
      outcome: 'success',
      deadline: '2026-12-10T08:00:00.000Z',
    });
  });

  it('reordering: an upload older than an erasure processed before it is never stored (or stored restricted when the law keeps it); an upload newer than the erasure is stored', async () => {
    // Prepare: a case document stored before the erasure (so the upload function knew its key)
    const who = 'emp-race-1';
    await h.send(await h.upload(who, 'case-r0', 'case-document', 'early'));
    const erasureTime = new Date(Date.now() + 1_000).toISOString();
    const olderTime = new Date(Date.now() - 60_000).toISOString();
    const olderCase = await h.upload(who, 'case-r1', 'case-document', 'older', { time: olderTime });
    const olderInvoice = await h.upload(who, 'inv-r1', 'accounting-document', 'older invoice', {
      time: olderTime,
      documentDate: '2026-05-01',
    });
    // Act: the erasure is processed first, then the older uploads arrive
    await h.send(
      h.event(
        'privacy.erasure.requested.v1',
        { subjectId: who, requestId: 'req-race-1', receivedAt: erasureTime },
        erasureTime,
      ),
    );
    await h.send(olderCase);
    await h.send(olderInvoice);
    // Act: an upload sent after the erasure, processed after it
    const newerTime = new Date(Date.now() + 5_000).toISOString();
    await h.send(await h.upload(who, 'case-r2', 'case-document', 'newer', { time: newerTime }));
    const items = await h.items(who);
    const subject = await h.pseudonym(who);
    const logs = (await h.logs()).filter((r) => r.subject === subject);
    // Assess: erasure wins over the older upload, which leaves nothing behind
    expect(Object.keys(items).sort()).toEqual(['case-r2', 'inv-r1']);
    expect(await h.versions(h.outputs.UploadBucketName, 'acme-sas/incoming/case-r1')).toBe(0);
    expect(
      await h.versions(h.outputs.VaultBucketName, `acme-sas/${subject}/case-document/case-r1`),
    ).toBe(0);
    expect(logs.find((r) => r.operation === 'erased' && r.outcome === 'skipped')?.reason).toBe(
      'erased-before-upload',
    );
    // the older invoice: kept under its legal duty, restricted
    expect(items['inv-r1']).toMatchObject({ state: 'restricted', restricted: true });
    // the newer upload is stored and readable (under a fresh key)
    expect(items['case-r2'].state).toBe('waiting-anchor');
    expect(await h.ctx.vault.get(vaultRefOf(items['case-r2']))).toEqual(
      new Uint8Array(Buffer.from('newer')),
    );
  });

  it('reordering: a document its producer dated ahead, stored before the erasure was sent, is erased; one sent and stored after the erasure is left', async () => {
    // Prepare: a case document dated 6 hours ahead (a producer's clock, within the intake's
    // bound), stored now; then, after the erasure's time, one sent after it, stored first
    const who = 'emp-race-ahead';
    await h.send(
      await h.upload(who, 'case-ahead', 'case-document', 'dated ahead', {
        time: new Date(Date.now() + 6 * 3600_000).toISOString(),
      }),
    );
    // Act: the erasure, sent between the two, processed after both
    await h.erasureAfterLaterUpload(who, 'case-after', 'sent after', 'req-race-ahead');
    const items = await h.items(who);
    // Assess: the pipeline's own storage time settles what the producer's time cannot
    expect(Object.keys(items)).toEqual(['case-after']);
    expect(await h.ctx.vault.get(vaultRefOf(items['case-after']))).toEqual(
      new Uint8Array(Buffer.from('sent after')),
    );
  });

  it('reordering in flight: an erasure that lands between the upload reading the subject and writing its item cancels the write; the retry erases it', async () => {
    // Prepare: a store that lets an erasure run right after the upload read the subject record
    const who = 'emp-race-2';
    const erasure = new ErasureRequestOperation(
      h.ctx,
      new SubjectCopies({
        s3: h.s3,
        exportBucket: h.outputs.ExportBucketName,
        uploadBucket: h.outputs.UploadBucketName,
      }),
    );
    const erasureEvent = h.event('privacy.erasure.requested.v1', {
      subjectId: who,
      requestId: 'req-race-2',
      receivedAt: new Date().toISOString(),
    });
    class RacingStore extends RetentionStore {
      raced = false;
      override async getSubject(tenant: string, subject: string): Promise<SubjectRecord> {
        const record = await super.getSubject(tenant, subject);
        if (!this.raced) {
          this.raced = true;
          await erasure.handle(erasureEvent as never);
        }
        return record;
      }
    }
    const racing = new RacingStore({ table: h.ctx.store.table });
    const upload = new DocumentUploadOperation(
      { ...h.ctx, store: racing },
      { s3: h.s3, uploadBucket: h.outputs.UploadBucketName },
    );
    const event = await h.upload(who, 'case-r9', 'case-document', 'racing', {
      time: new Date(Date.now() - 10_000).toISOString(),
    });
    const subject = await h.pseudonym(who);
    // Act
    const first = await upload.handle(event as never, logObjectsOf(h.sweepLog)).then(
      () => 'stored',
      (error: unknown) => error,
    );
    const retry = await upload.handle(event as never, logObjectsOf(h.sweepLog));
    // Assess
    expect(first).toBeInstanceOf(ConcurrentChangeError);
    expect((first as ConcurrentChangeError).transient).toBe(true);
    expect(retry.entries.find((e) => e.operation === 'erased')).toMatchObject({
      outcome: 'skipped',
      reason: 'erased-before-upload',
    });
    expect(await h.items(who)).toEqual({});
    expect(await h.versions(h.outputs.VaultBucketName, `acme-sas/${subject}/case-document/`)).toBe(
      0,
    );
    expect(await h.versions(h.outputs.UploadBucketName, 'acme-sas/incoming/case-r9')).toBe(0);
  });
});
