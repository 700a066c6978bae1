import { DocumentUploadOperation } from '../../shared/operations/document-upload';
import type { DocumentItem } from '../../shared/retention/retention-items';
import { RetentionStore } from '../../shared/retention/retention-store';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

describe('erasure removes every copy (local endpoint)', () => {
  let h: OperationsHarness;

  beforeAll(async () => {
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('deletes the access and closure exports, the upload a refused or crashed upload left, and the vault object of a dead-lettered upload; each removal logged once', async () => {
    // Prepare: a case document and an invoice (kept under a legal duty), then an access export and
    // a closure export of both (decrypted copies and the subject id in clear)
    const who = 'emp-copies-1';
    const subject = await h.pseudonym(who);
    await h.send(await h.upload(who, 'case-c1', 'case-document', 'case one'));
    await h.send(
      await h.upload(who, 'inv-c1', 'accounting-document', 'invoice', {
        documentDate: '2026-02-10',
      }),
    );
    await h.send(
      h.event('privacy.access.requested.v1', {
        subjectId: who,
        requestId: 'req-copies-access',
        receivedAt: new Date().toISOString(),
      }),
    );
    await h.send(
      h.event('privacy.account.closed.v1', {
        subjectId: who,
        closedAt: new Date().toISOString(),
        exportBeforeDeletion: true,
      }),
    );
    // a refused upload: a document id another event already stored (dead-lettered, object left)
    const elsewhere = { key: 'acme-sas/incoming/dup-c1.pdf' };
    await h.send(await h.upload(who, 'case-c1', 'case-document', 'second copy', elsewhere));
    // a crashed upload: stored in the vault, then the function died before writing its item (the
    // message is dead-lettered after its retries)
    class CrashingStore extends RetentionStore {
      override async createDocument(): Promise<boolean> {
        throw new Error('function crashed');
      }
    }
    const crashing = new DocumentUploadOperation(
      { ...h.ctx, store: new CrashingStore({ table: h.ctx.store.table }) },
      { s3: h.s3, uploadBucket: h.outputs.UploadBucketName },
    );
    const crashed = await h.upload(who, 'case-c2', 'case-document', 'crashed');
    const log = { objectKey: 'crashed-invocation', holds: async () => undefined };
    await crashing.handle(crashed as never, log).catch(() => undefined);
    const exportsBefore = await h.versions(h.outputs.ExportBucketName, `acme-sas/${subject}/`);
    const vaultOrphanBefore = await h.versions(
      h.outputs.VaultBucketName,
      `acme-sas/${subject}/case-document/case-c2`,
    );
    // Act
    await h.send(
      h.event('privacy.erasure.requested.v1', {
        subjectId: who,
        requestId: 'req-copies-erase',
        receivedAt: new Date().toISOString(),
      }),
    );
    const erasure = await h.ctx.pseudonyms.request('acme-sas', 'req-copies-erase');
    const logs = (await h.logs()).filter(
      (r) => r.requestId === erasure && r.operation === 'erased',
    );
    const items: Record<string, DocumentItem> = await h.items(who);
    // Assess: the copies were there before the erasure
    expect(exportsBefore).toBeGreaterThanOrEqual(6);
    expect(vaultOrphanBefore).toBe(1);
    // nothing is left in the export bucket, restricted data included (the vault keeps the original)
    expect(await h.versions(h.outputs.ExportBucketName, `acme-sas/${subject}/`)).toBe(0);
    expect(Object.keys(items)).toEqual(['inv-c1']);
    // nothing of the refused and the crashed uploads
    expect(await h.versions(h.outputs.UploadBucketName, 'acme-sas/incoming/dup-c1.pdf')).toBe(0);
    expect(await h.versions(h.outputs.UploadBucketName, 'acme-sas/incoming/case-c2.pdf')).toBe(0);
    expect(await h.versions(h.outputs.VaultBucketName, `acme-sas/${subject}/case-document/`)).toBe(
      0,
    );
    // one record per removal, with distinct ids, and nothing in clear
    const reasons = logs.map((r) => r.reason ?? '').sort();
    expect(reasons.filter((r) => r.startsWith('access-export'))).toHaveLength(1);
    expect(reasons.filter((r) => r.startsWith('closure-export'))).toHaveLength(1);
    expect(reasons.filter((r) => r.includes('pending-upload'))).toHaveLength(2);
    expect(reasons.filter((r) => r.includes('vault-object-without-item'))).toHaveLength(1);
    expect(new Set(logs.map((r) => r.recordId)).size).toBe(logs.length);
    expect(JSON.stringify(logs)).not.toContain(who);
  });
});
