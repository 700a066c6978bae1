import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { LocalPipeline } from '../../local/environment';
import { listObjectVersions } from '../../shared/aws/object-versions';
import { DocumentVault } from '../../shared/vault/document-vault';
import type { VaultDocumentRef } from '../../shared/vault/vault-ref';
import {
  DocumentIntegrityError,
  DocumentNotFoundError,
  DocumentShreddedError,
} from '../../shared/vault/errors';
import { startTestPipeline } from '../helpers/local-pipeline';
import { localClientOptions } from '../../local/client-options';

/** Counts the commands a client sends (once per command, retries not counted). */
function countCalls(client: {
  middlewareStack: { add: (m: never, o: { step: 'initialize'; name: string }) => void };
}): Map<string, number> {
  const counts = new Map<string, number>();
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    (args: unknown) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'countCalls' });
  return counts;
}
const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

const pseudonym = () => randomBytes(32).toString('hex');

describe('document vault through the local endpoint', () => {
  let pipeline: LocalPipeline;
  let s3: S3Client;
  let kms: KMSClient;
  let dynamoBase: DynamoDBClient;
  let dynamo: DynamoDBDocumentClient;
  let bucket: string;
  let table: string;
  let keyId: string;
  const tenant = 'acme-sas';

  const vault = (
    options: { now?: () => number; kms?: KMSClient; dynamo?: DynamoDBDocumentClient } = {},
  ) =>
    new DocumentVault({
      s3,
      dynamo: options.dynamo ?? dynamo,
      kms: options.kms ?? kms,
      bucket,
      keyStoreTable: table,
      wrappingKeyId: keyId,
      now: options.now,
    });

  beforeAll(async () => {
    pipeline = await startTestPipeline({ startRuntime: false });
    const clientOptions = localClientOptions(pipeline.endpoint);
    s3 = new S3Client(clientOptions);
    kms = new KMSClient(clientOptions);
    dynamoBase = new DynamoDBClient(clientOptions);
    dynamo = DynamoDBDocumentClient.from(dynamoBase);
    bucket = pipeline.environment.outputs.VaultBucketName;
    const resources = [...pipeline.environment.resources.entries()];
    const byPrefix = (type: string, prefix: string) =>
      resources.find(([id, r]) => r.type === type && id.startsWith(prefix))![1].ref;
    table = byPrefix('AWS::DynamoDB::Table', 'KeyStoreTable');
    keyId = byPrefix('AWS::KMS::Key', 'DocumentsKey');
  });

  afterAll(async () => {
    await pipeline?.stop();
    s3?.destroy();
    kms?.destroy();
    dynamoBase?.destroy();
  });

  it('round-trips a document and stores only ciphertext in the bucket', async () => {
    // Prepare
    const ref: VaultDocumentRef = {
      tenant,
      subject: pseudonym(),
      keyClass: 'case-document',
      documentId: 'scan-0001.pdf',
    };
    const plaintext = Buffer.from('%PDF-1.7 identity card of a client, do not store in clear');
    // Act
    const stored = await vault().put(ref, plaintext, { 'document-date': '2026-03-14' });
    const read = await vault().get(ref);
    // Assess
    expect(Buffer.from(read).equals(plaintext)).toBe(true);
    expect(stored.vaultKey).toBe(`${tenant}/${ref.subject}/case-document/scan-0001.pdf`);
    expect(stored.size).toBe(plaintext.length);
    expect(stored.sha256).toBe(createHash('sha256').update(plaintext).digest('hex'));
    expect(stored.versionId).toBeTruthy();
    const raw = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: stored.vaultKey }));
    const ciphertext = Buffer.from(await raw.Body!.transformToByteArray());
    expect(ciphertext.includes(Buffer.from('identity card'))).toBe(false);
    expect(ciphertext.subarray(0, 4).toString()).toBe('PODV');
    expect(raw.ServerSideEncryption).toBe('aws:kms');
    expect(raw.Metadata?.['document-date']).toBe('2026-03-14');
  });

  it('streams a document of several multipart parts in and out, and stores nothing from a source that does not match', async () => {
    // Prepare: 9 MiB + 5 bytes (2 parts of the vault's multipart upload), fed in odd chunks
    const subject = pseudonym();
    const ref = { tenant, subject, keyClass: 'contract', documentId: 'big-1' };
    const content = randomBytes(9 * 1024 * 1024 + 5);
    const chunks = (b: Buffer) =>
      Readable.from(
        Array.from({ length: Math.ceil(b.length / 99_991) }, (_, i) =>
          b.subarray(i * 99_991, (i + 1) * 99_991),
        ),
      );
    const sha256 = createHash('sha256').update(content).digest('hex');
    const v = vault();
    const calls = countCalls(s3 as never);
    // Act
    const stored = await v.putStream(ref, { body: chunks(content), size: content.length });
    const opened = await v.open(ref);
    const read: Buffer[] = [];
    for await (const chunk of opened.body) read.push(chunk as Buffer);
    const wrongDigest = { ...ref, documentId: 'big-2' };
    const refusedDigest = v.putStream(wrongDigest, {
      body: chunks(content),
      size: content.length,
      sha256: '0'.repeat(64),
    });
    const wrongSize = { ...ref, documentId: 'big-3' };
    const refusedSize = v.putStream(wrongSize, { body: chunks(content), size: content.length + 1 });
    // Assess
    expect(stored).toMatchObject({ size: content.length, sha256 });
    expect(calls.get('UploadPartCommand')).toBe(2);
    expect(opened.size).toBe(content.length);
    expect(Buffer.concat(read).equals(content)).toBe(true);
    await expect(refusedDigest).rejects.toMatchObject({ reason: 'sha256-mismatch' });
    await expect(refusedSize).rejects.toMatchObject({ reason: 'document-size-changed' });
    const keys = (await listObjectVersions(s3, { bucket, prefix: `${tenant}/${subject}/` })).map(
      (e) => e.key,
    );
    expect(keys).toEqual([`${tenant}/${subject}/contract/big-1`]);
  });

  it('stores the subject key wrapped and the wrapping key as KMS ciphertext', async () => {
    // Prepare
    const ref = { tenant, subject: pseudonym(), keyClass: 'contract', documentId: 'c-1' };
    // Act
    await vault().put(ref, Buffer.from('contract'));
    // Assess
    const subjectItem = await dynamo.send(
      new GetCommand({
        TableName: table,
        Key: { pk: `TENANT#${tenant}#SUBJECT#${ref.subject}`, sk: 'KEY#contract' },
      }),
    );
    const wrappingItem = await dynamo.send(
      new GetCommand({ TableName: table, Key: { pk: `TENANT#${tenant}`, sk: 'WRAPPING#v1' } }),
    );
    expect(subjectItem.Item?.wrappedKey).toBeInstanceOf(Uint8Array);
    expect((subjectItem.Item?.wrappedKey as Uint8Array).length).toBe(61);
    expect(wrappingItem.Item?.ciphertext).toBeInstanceOf(Uint8Array);
  });

  it('makes a shredded document unreadable while its ciphertext still exists', async () => {
    // Prepare
    const ref = { tenant, subject: pseudonym(), keyClass: 'case-document', documentId: 'd-1' };
    const writer = vault();
    const { vaultKey } = await writer.put(ref, Buffer.from('to be erased'));
    await writer.get(ref); // cached in this instance
    // Act
    const result = await writer.shred(tenant, ref.subject);
    // Assess
    expect(result.keysDestroyed).toBe(1);
    await expect(writer.get(ref)).rejects.toBeInstanceOf(DocumentShreddedError);
    await expect(vault().get(ref)).rejects.toMatchObject({
      reason: 'document-shredded',
      transient: false,
    });
    expect(await writer.isShredded(tenant, ref.subject, 'case-document')).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: vaultKey }));
    expect(head.ContentLength).toBeGreaterThan(0);
    expect((await writer.shred(tenant, ref.subject)).keysDestroyed).toBe(0);
  });

  it('shreds one key class and leaves another readable', async () => {
    // Prepare
    const subject = pseudonym();
    const erasable = { tenant, subject, keyClass: 'case-document', documentId: 'case-1' };
    const kept = { tenant, subject, keyClass: 'accounting-document', documentId: 'invoice-1' };
    const v = vault();
    await v.put(erasable, Buffer.from('case'));
    await v.put(kept, Buffer.from('invoice'));
    // Act
    const result = await v.shred(tenant, subject, ['case-document']);
    // Assess
    expect(result.keysDestroyed).toBe(1);
    await expect(v.get(erasable)).rejects.toBeInstanceOf(DocumentShreddedError);
    expect(Buffer.from(await v.get(kept)).toString()).toBe('invoice');
    expect(Buffer.from(await vault().get(kept)).toString()).toBe('invoice');
    expect(await v.isShredded(tenant, subject, 'accounting-document')).toBe(false);
  });

  it('keeps an old document unreadable after a new key of the same class is created', async () => {
    // Prepare
    const subject = pseudonym();
    const oldDoc = { tenant, subject, keyClass: 'prospect-contact', documentId: 'old' };
    const newDoc = { tenant, subject, keyClass: 'prospect-contact', documentId: 'new' };
    const v = vault();
    await v.put(oldDoc, Buffer.from('before erasure'));
    await v.shred(tenant, subject);
    // Act
    await v.put(newDoc, Buffer.from('after erasure'));
    // Assess
    await expect(v.get(oldDoc)).rejects.toBeInstanceOf(DocumentShreddedError);
    expect(Buffer.from(await v.get(newDoc)).toString()).toBe('after erasure');
  });

  it('refuses a tampered object and a ciphertext moved to another document', async () => {
    // Prepare
    const subject = pseudonym();
    const a = { tenant, subject, keyClass: 'contract', documentId: 'a' };
    const b = { tenant, subject, keyClass: 'contract', documentId: 'b' };
    const v = vault();
    const stored = await v.put(a, Buffer.from('contract A'));
    await v.put(b, Buffer.from('contract B'));
    const raw = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: stored.vaultKey }));
    const body = Buffer.from(await raw.Body!.transformToByteArray());
    // Act: copy A's ciphertext (and metadata) over B
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${tenant}/${subject}/contract/b`,
        Body: body,
        Metadata: raw.Metadata,
      }),
    );
    const flipped = Buffer.from(body);
    flipped[flipped.length - 1] ^= 1;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: stored.vaultKey,
        Body: flipped,
        Metadata: raw.Metadata,
      }),
    );
    // Assess
    await expect(v.get(b)).rejects.toBeInstanceOf(DocumentIntegrityError);
    await expect(v.get(a)).rejects.toBeInstanceOf(DocumentIntegrityError);
  });

  it('reports a missing document as not found', async () => {
    // Prepare
    const ref = { tenant, subject: pseudonym(), keyClass: 'contract', documentId: 'none' };
    // Act / Assess
    await expect(vault().get(ref)).rejects.toBeInstanceOf(DocumentNotFoundError);
  });

  it('refuses a reference of the wrong shape', async () => {
    // Prepare
    const bad = [
      { tenant: 'Acme', subject: pseudonym(), keyClass: 'contract', documentId: 'x' },
      { tenant, subject: 'emp-00042', keyClass: 'contract', documentId: 'x' },
      { tenant, subject: pseudonym(), keyClass: 'a/b', documentId: 'x' },
      { tenant, subject: pseudonym(), keyClass: 'contract', documentId: '../x' },
    ];
    // Act / Assess
    for (const ref of bad)
      await expect(vault().put(ref, Buffer.from('x'))).rejects.toMatchObject({
        reason: 'invalid-vault-reference',
      });
  });

  it('lists the current documents of a subject with size and digest', async () => {
    // Prepare
    const subject = pseudonym();
    const v = vault();
    await v.put({ tenant, subject, keyClass: 'contract', documentId: 'c1' }, Buffer.from('one'));
    await v.put({ tenant, subject, keyClass: 'contract', documentId: 'c1' }, Buffer.from('one v2'));
    await v.put(
      { tenant, subject, keyClass: 'payroll-document', documentId: 'p1' },
      Buffer.from('22'),
    );
    await v.put(
      { tenant, subject: pseudonym(), keyClass: 'contract', documentId: 'c1' },
      Buffer.from('other'),
    );
    // Act
    const listed = await v.listDocuments(tenant, subject);
    // Assess
    expect(listed.map((d) => [d.vaultKey, d.size]).sort()).toEqual([
      [`${tenant}/${subject}/contract/c1`, 6],
      [`${tenant}/${subject}/payroll-document/p1`, 2],
    ]);
    expect(listed.find((d) => d.ref?.documentId === 'p1')?.sha256).toBe(
      createHash('sha256').update('22').digest('hex'),
    );
  });

  it('deletes every version and delete marker of a document, and only of that document', async () => {
    // Prepare
    const subject = pseudonym();
    const ref = { tenant, subject, keyClass: 'case-document', documentId: 'doc1' };
    const sibling = { tenant, subject, keyClass: 'case-document', documentId: 'doc10' };
    const v = vault();
    for (let i = 0; i < 3; i++) await v.put(ref, Buffer.from(`version ${i}`));
    await s3.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: `${tenant}/${subject}/case-document/doc1` }),
    ); // a delete marker on top of the 3 versions
    await v.put(sibling, Buffer.from('sibling'));
    const listVersions = (prefix: string) => listObjectVersions(s3, { bucket, prefix });
    const before = await listVersions(`${tenant}/${subject}/case-document/doc1`);
    // Act
    const result = await v.deleteAllVersions(tenant, subject, 'case-document', 'doc1');
    // Assess
    expect(before.filter((e) => e.key.endsWith('/doc1'))).toHaveLength(4);
    expect(result).toMatchObject({ objectsDeleted: 4, deleteCalls: 1 });
    const after = await listVersions(`${tenant}/${subject}/`);
    expect(after.map((e) => e.key)).toEqual([`${tenant}/${subject}/case-document/doc10`]);
    await expect(v.get(ref)).rejects.toBeInstanceOf(DocumentNotFoundError);
  });

  it('deletes 1,001 versions (two listing pages) with ceil(n/1000) = 2 DeleteObjects calls', async () => {
    // Prepare
    const subject = pseudonym();
    const prefix = `${tenant}/${subject}/`;
    const n = 1001;
    for (let start = 0; start < n; start += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, n - start) }, (_, i) =>
          s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `${prefix}case-document/o-${String(start + i).padStart(5, '0')}`,
              Body: 'x',
            }),
          ),
        ),
      );
    }
    const countingS3 = new S3Client(localClientOptions(pipeline.endpoint));
    const counts = countCalls(countingS3 as never);
    const v = new DocumentVault({
      s3: countingS3,
      dynamo,
      kms,
      bucket,
      keyStoreTable: table,
      wrappingKeyId: keyId,
    });
    // Act
    const result = await v.deleteAllVersions(tenant, subject);
    // Assess
    expect(result.objectsDeleted).toBe(n);
    expect(result.deleteCalls).toBe(2);
    expect(counts.get('DeleteObjectsCommand')).toBe(2);
    expect(result.listCalls).toBe(2);
    expect(counts.get('ListObjectVersionsCommand')).toBe(result.listCalls);
    const left = await listObjectVersions(s3, { bucket, prefix });
    expect(left).toHaveLength(0);
    countingS3.destroy();
  });

  it('costs at most 2 KMS calls for 100 documents of 10 subjects of one tenant', async () => {
    // Prepare
    const clientOptions = localClientOptions(pipeline.endpoint);
    const countingKms = new KMSClient(clientOptions);
    const countingDynamoBase = new DynamoDBClient(clientOptions);
    const kmsCalls = countCalls(countingKms as never);
    const dynamoCalls = countCalls(countingDynamoBase as never);
    const countingDynamo = DynamoDBDocumentClient.from(countingDynamoBase);
    const freshTenant = `kms-economy-${randomBytes(3).toString('hex')}`;
    const subjects = Array.from({ length: 10 }, pseudonym);
    const refs = subjects.flatMap((subject) =>
      Array.from({ length: 10 }, (_, i) => ({
        tenant: freshTenant,
        subject,
        keyClass: i % 2 === 0 ? 'accounting-document' : 'case-document',
        documentId: `doc-${i}`,
      })),
    );
    const writer = vault({ kms: countingKms, dynamo: countingDynamo });
    // Act: 100 puts (10 at a time) on a brand-new tenant, then 100 gets by a cold instance
    for (let i = 0; i < refs.length; i += 10)
      await Promise.all(
        refs.slice(i, i + 10).map((ref) => writer.put(ref, Buffer.from(ref.documentId))),
      );
    const putKms = total(kmsCalls);
    const putDynamo = total(dynamoCalls);
    kmsCalls.clear();
    dynamoCalls.clear();
    const reader = vault({ kms: countingKms, dynamo: countingDynamo });
    for (let i = 0; i < refs.length; i += 10)
      await Promise.all(refs.slice(i, i + 10).map((ref) => reader.get(ref)));
    const getKms = total(kmsCalls);
    const getDynamo = total(dynamoCalls);
    // Assess
    process.stdout.write(
      `KMS economy, 100 documents / 10 subjects / 2 classes, one tenant: ` +
        `put (new tenant): KMS ${putKms}, DynamoDB ${putDynamo}; ` +
        `get (cold instance): KMS ${getKms}, DynamoDB ${getDynamo}\n`,
    );
    expect(putKms).toBe(1); // GenerateDataKey, once
    expect(getKms).toBe(1); // Decrypt, once
    expect(putKms + getKms).toBeLessThanOrEqual(2);
    expect(putDynamo).toBe(2 + 20 * 2); // wrapping key get+put; per subject key get+put
    expect(getDynamo).toBe(1 + 20); // wrapping key get; per subject key get
    countingKms.destroy();
    countingDynamoBase.destroy();
  });

  it('serves a key shredded by another instance for at most the cache TTL', async () => {
    // Prepare
    let time = Date.now();
    const ref = { tenant, subject: pseudonym(), keyClass: 'case-document', documentId: 'd' };
    const reader = vault({ now: () => time });
    await reader.put(ref, Buffer.from('cached'));
    // Act
    await vault().shred(tenant, ref.subject);
    const withinTtl = await reader.get(ref);
    time += 5 * 60 * 1000;
    const afterTtl = reader.get(ref);
    // Assess
    expect(Buffer.from(withinTtl).toString()).toBe('cached');
    await expect(afterTtl).rejects.toBeInstanceOf(DocumentShreddedError);
  });
});
