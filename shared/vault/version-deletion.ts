import { DeleteObjectsCommand, type ObjectIdentifier, type S3Client } from '@aws-sdk/client-s3';
import { objectVersionPages } from '../aws/object-versions';
import { PartialDeletionError } from './errors';

/** Most objects one DeleteObjects call takes (and versions one listing call returns). */
export const DELETE_BATCH = 1000;

/** Result of a physical deletion of object versions. */
export interface DeletionResult {
  /** Object versions and delete markers removed. */
  readonly objectsDeleted: number;
  /** DeleteObjects calls made (ceil(objectsDeleted / 1000)). */
  readonly deleteCalls: number;
  /** ListObjectVersions calls made. */
  readonly listCalls: number;
}

/** Which versions to delete. */
export interface VersionDeletion {
  readonly bucket: string;
  /** Every version under this prefix… */
  readonly prefix: string;
  /** …or only those of exactly this key. */
  readonly exactKey?: string;
  /** Most versions listed (and held in memory) before deleting them; a multiple of 1,000. */
  readonly roundSize: number;
}

/**
 * Physically removes every object version and delete marker of a prefix (or of one exact key), in
 * rounds: list (paginated) without deleting, so that the listing markers stay valid, then delete
 * what was listed, 1,000 per quiet DeleteObjects call. A round holds about `roundSize` versions in
 * memory; the next round lists again from the start, where the deleted versions no longer appear.
 * Versions S3 refuses to delete raise {@link PartialDeletionError} (transient: the whole call is
 * idempotent, retry it).
 */
export async function deleteAllObjectVersions(
  s3: S3Client,
  target: VersionDeletion,
): Promise<DeletionResult> {
  let objectsDeleted = 0;
  let deleteCalls = 0;
  let listCalls = 0;
  let failed = 0;
  let firstCode: string | undefined;
  let done = false;
  while (!done) {
    const listed: ObjectIdentifier[] = [];
    let complete = true;
    for await (const page of objectVersionPages(s3, {
      bucket: target.bucket,
      prefix: target.prefix,
      exactKey: target.exactKey,
      pageSize: Math.min(DELETE_BATCH, target.roundSize),
    })) {
      listCalls++;
      listed.push(...page.map((v) => ({ Key: v.key, VersionId: v.versionId })));
      if (listed.length >= target.roundSize) {
        complete = false;
        break;
      }
    }
    for (let i = 0; i < listed.length; i += DELETE_BATCH) {
      deleteCalls++;
      const objects = listed.slice(i, i + DELETE_BATCH);
      const response = await s3.send(
        new DeleteObjectsCommand({
          Bucket: target.bucket,
          Delete: { Objects: objects, Quiet: true },
        }),
      );
      const errors = response.Errors ?? [];
      failed += errors.length;
      firstCode ??= errors[0]?.Code;
      objectsDeleted += objects.length - errors.length;
    }
    // Stop when the listing was complete, or when a full round found nothing to delete.
    done = complete || listed.length === 0 || failed > 0;
  }
  if (failed > 0) throw new PartialDeletionError(failed, firstCode);
  return { objectsDeleted, deleteCalls, listCalls };
}

/**
 * Physically removes the given object versions, 1,000 per quiet DeleteObjects call (no listing:
 * the caller knows the version ids). A version already gone is not an error. Versions S3 refuses
 * to delete raise {@link PartialDeletionError} (transient: the call is idempotent, retry it).
 */
export async function deleteKnownVersions(
  s3: S3Client,
  bucket: string,
  versions: readonly ObjectIdentifier[],
): Promise<number> {
  let failed = 0;
  let firstCode: string | undefined;
  for (let i = 0; i < versions.length; i += DELETE_BATCH) {
    const response = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: versions.slice(i, i + DELETE_BATCH), Quiet: true },
      }),
    );
    failed += response.Errors?.length ?? 0;
    firstCode ??= response.Errors?.[0]?.Code;
  }
  if (failed > 0) throw new PartialDeletionError(failed, firstCode);
  return versions.length;
}
