import {
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  ObjectIdentifier,
  S3Client,
} from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isTransient } from '../../shared/errors';
import { DocumentVault } from '../../shared/vault/document-vault';
import { PartialDeletionError } from '../../shared/vault/errors';

/**
 * A versioned bucket in memory answering ListObjectVersions (key order, markers, MaxKeys) and
 * DeleteObjects; pure-logic unit test of the pagination and chunking.
 */
const order = (e: { Key: string; VersionId: string }) => `${e.Key}\u0000${e.VersionId}`;

class FakeVersionedBucket {
  entries: { Key: string; VersionId: string }[] = [];
  readonly deleteBatches: { count: number; quiet: boolean | undefined }[] = [];
  listCalls = 0;
  /** Set when entries were added; the listing sorts them once. */
  dirty = true;
  refuse = new Set<string>();

  readonly client = {
    send: async (command: unknown) => {
      await Promise.resolve();
      if (command instanceof ListObjectVersionsCommand) {
        this.listCalls++;
        const { Prefix = '', KeyMarker, VersionIdMarker, MaxKeys = 1000 } = command.input;
        if (this.dirty) {
          this.entries.sort((a, b) => (order(a) < order(b) ? -1 : 1));
          this.dirty = false;
        }
        const sorted = this.entries.filter((e) => e.Key.startsWith(Prefix));
        const marker = `${KeyMarker}\u0000${VersionIdMarker ?? ''}`;
        const start = KeyMarker ? sorted.findIndex((e) => order(e) > marker) : 0;
        const rest = start < 0 ? [] : sorted.slice(start);
        const page = rest.slice(0, MaxKeys);
        const truncated = rest.length > MaxKeys;
        const last = page[page.length - 1];
        return {
          Versions: page.filter((e) => !e.VersionId.startsWith('dm')),
          DeleteMarkers: page.filter((e) => e.VersionId.startsWith('dm')),
          IsTruncated: truncated,
          NextKeyMarker: truncated ? last.Key : undefined,
          NextVersionIdMarker: truncated ? last.VersionId : undefined,
        };
      }
      if (command instanceof DeleteObjectsCommand) {
        const objects = command.input.Delete!.Objects as ObjectIdentifier[];
        if (objects.length > 1000) throw new Error('MalformedXML: more than 1000 keys');
        this.deleteBatches.push({ count: objects.length, quiet: command.input.Delete!.Quiet });
        const gone = new Set(
          objects.filter((o) => !this.refuse.has(o.Key!)).map((o) => `${o.Key}|${o.VersionId}`),
        );
        this.entries = this.entries.filter((e) => !gone.has(`${e.Key}|${e.VersionId}`));
        return {
          Errors: objects
            .filter((o) => this.refuse.has(o.Key!))
            .map((o) => ({ Key: o.Key, VersionId: o.VersionId, Code: 'AccessDenied' })),
        };
      }
      throw new Error('unexpected command');
    },
  } as unknown as S3Client;
}

const tenant = 'acme-sas';
const subject = 'e'.repeat(64);
const vaultOver = (s3: S3Client, deletionRoundSize?: number) =>
  new DocumentVault({
    deletionRoundSize,
    s3,
    dynamo: {} as DynamoDBDocumentClient,
    kms: {} as KMSClient,
    bucket: 'vault',
    keyStoreTable: 'keys',
    wrappingKeyId: 'key',
  });
const fill = (bucket: FakeVersionedBucket, keyClass: string, documents: number, versions = 1) => {
  for (let d = 0; d < documents; d++)
    for (let v = 0; v < versions; v++)
      bucket.entries.push({
        Key: `${tenant}/${subject}/${keyClass}/doc-${String(d).padStart(6, '0')}`,
        VersionId: v === versions - 1 && versions > 1 ? `dm-${v}` : `v-${v}`,
      });
};

describe('vault physical deletion: pagination and chunking', () => {
  it('deletes 2,500 versions and delete markers in ceil(n/1000) = 3 quiet DeleteObjects calls', async () => {
    // Prepare
    const bucket = new FakeVersionedBucket();
    fill(bucket, 'case-document', 1250, 2);
    // Act
    const result = await vaultOver(bucket.client).deleteAllVersions(tenant, subject);
    // Assess
    expect(result).toEqual({ objectsDeleted: 2500, deleteCalls: 3, listCalls: 3 });
    expect(bucket.deleteBatches).toEqual([
      { count: 1000, quiet: true },
      { count: 1000, quiet: true },
      { count: 500, quiet: true },
    ]);
    expect(bucket.entries).toHaveLength(0);
  });

  it('works in rounds beyond the round size and still needs ceil(n/1000) calls', async () => {
    // Prepare
    const bucket = new FakeVersionedBucket();
    fill(bucket, 'case-document', 4_500);
    // Act
    const result = await vaultOver(bucket.client, 2_000).deleteAllVersions(tenant, subject);
    // Assess
    expect(result.objectsDeleted).toBe(4_500);
    expect(result.deleteCalls).toBe(5);
    expect(bucket.deleteBatches.map((b) => b.count)).toEqual([1000, 1000, 1000, 1000, 500]);
    expect(() => vaultOver(bucket.client, 1_500)).toThrow(RangeError);
    expect(bucket.entries).toHaveLength(0);
  });

  it('limits itself to one key class, or to one exact document', async () => {
    // Prepare
    const bucket = new FakeVersionedBucket();
    fill(bucket, 'case-document', 12, 3);
    fill(bucket, 'accounting-document', 2);
    const vault = vaultOver(bucket.client);
    // Act
    const one = await vault.deleteAllVersions(tenant, subject, 'case-document', 'doc-000001');
    const cls = await vault.deleteAllVersions(tenant, subject, 'case-document');
    // Assess
    expect(one.objectsDeleted).toBe(3); // doc-000001 only, not doc-000010 / doc-000011
    expect(cls.objectsDeleted).toBe(33);
    expect(bucket.entries.map((e) => e.Key.split('/')[2])).toEqual([
      'accounting-document',
      'accounting-document',
    ]);
  });

  it('reports versions S3 refused as a transient PartialDeletionError without naming them', async () => {
    // Prepare
    const bucket = new FakeVersionedBucket();
    fill(bucket, 'case-document', 5);
    bucket.refuse.add(`${tenant}/${subject}/case-document/doc-000002`);
    // Act
    const attempt = vaultOver(bucket.client).deleteAllVersions(tenant, subject);
    // Assess
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialDeletionError);
    expect(isTransient(error)).toBe(true);
    expect((error as PartialDeletionError).failed).toBe(1);
    expect((error as Error).message).not.toContain(subject);
    expect((error as Error).message).not.toContain('doc-000002');
    expect(bucket.entries).toHaveLength(1);
  });

  it('refuses a document id without a key class, and a subject that is not a pseudonym', async () => {
    // Prepare
    const vault = vaultOver(new FakeVersionedBucket().client);
    // Act / Assess
    await expect(vault.deleteAllVersions(tenant, subject, undefined, 'doc')).rejects.toMatchObject({
      reason: 'invalid-vault-reference',
    });
    await expect(vault.deleteAllVersions(tenant, 'emp-00042')).rejects.toMatchObject({
      reason: 'invalid-vault-reference',
    });
  });
});
