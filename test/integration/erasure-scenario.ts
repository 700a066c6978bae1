import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import {
  subjectKey,
  uploadMarkerKey,
  vaultRefOf,
  type DocumentItem,
} from '../../shared/retention/retention-items';
import type { OperationsHarness } from './operations-harness';
import { exactly, noDuplicateIds } from './record-checks';
import type { StoreDocument } from './stored-documents';

/*
 * The subject of the erasure crash-point tests, and what must hold once its erasure is done:
 * every deletion, shred, copy removal and restriction logged once, the request completed once,
 * nothing left behind, and the document kept under a legal duty still readable.
 */

/** A subject prepared for an erasure, with the request that erases it. */
export interface ErasureSubject {
  readonly who: string;
  /** The subject's pseudonym. */
  readonly subject: string;
  /** The case documents: each crypto-shredded by the erasure. */
  readonly cases: readonly DocumentItem[];
  /** An invoice kept under a legal duty: restricted, still readable. */
  readonly invoice: DocumentItem;
  /** The upload bucket key of the upload a crashed upload left. */
  readonly pendingKey: string;
  readonly requestId: string;
  /** The `privacy.erasure.requested.v1` event of the request. */
  readonly event: Record<string, unknown>;
}

/**
 * Prepares `who`: `caseDocuments` case documents, an invoice kept under a legal duty, an access
 * export, an upload a crashed upload left (its object and its marker), and a vault object without
 * an item; documents are stored with `stored`.
 */
export async function prepareErasureSubject(
  h: OperationsHarness,
  stored: StoreDocument,
  who: string,
  caseDocuments: number,
): Promise<ErasureSubject> {
  const subject = await h.pseudonym(who);
  const cases: DocumentItem[] = [];
  for (let i = 1; i <= caseDocuments; i += 1)
    cases.push(await stored(who, `${who}-c${i}`, 'case-document'));
  const invoice = await stored(who, `${who}-inv`, 'accounting-document', '2026-02-10');
  await h.s3.send(
    new PutObjectCommand({
      Bucket: h.outputs.ExportBucketName,
      Key: `acme-sas/${subject}/access-earlier/documents.json`,
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
  const requestId = `req-${who}`;
  const event = h.event('privacy.erasure.requested.v1', {
    subjectId: who,
    requestId,
    receivedAt: new Date().toISOString(),
  });
  return { who, subject, cases, invoice, pendingKey, requestId, event };
}

/**
 * What is wrong after the erasure of `erased`, given the log `records` written since it was
 * prepared: each effect of the request not logged exactly once (received, the export, pending
 * upload and orphan removals, each case document's crypto-shredded erasure, the shred, the
 * invoice's restriction, the completion, which reads `completion`, e.g. `erased:2;restricted:1`),
 * a record id logged twice, anything left behind (vault objects, export objects, the pending
 * upload, the case-document key, the subject's `destroying` mark), or the kept invoice unreadable.
 */
export async function erasureProblems(
  h: OperationsHarness,
  erased: ErasureSubject,
  records: readonly ProcessingLogRecord[],
  completion: string,
): Promise<string[]> {
  const { who, subject, cases, invoice, pendingKey } = erased;
  const request = await h.ctx.pseudonyms.request('acme-sas', erased.requestId);
  const mine = records.filter((r) => r.requestId === request);
  const erasures = mine.filter((r) => r.operation === 'erased' && r.outcome === 'success');
  const reasonIs = (part: string) => erasures.filter((r) => (r.reason ?? '').includes(part));
  const completions = mine.filter((r) => r.operation === 'request-completed');
  const problems = [
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
    ...exactly(completions, 'the completion', 1),
    ...(completions.every((r) => r.reason === completion)
      ? []
      : [`the completion reads ${completions.map((r) => r.reason).join(', ')}, not ${completion}`]),
    ...noDuplicateIds(mine),
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
  return problems;
}
