import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';

/** One object version or delete marker, as a listing returns it. */
export interface ObjectVersion {
  readonly key: string;
  /** The version id; `null` for an object written before versioning was enabled. */
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly latest: boolean;
  /** When the version was written (ISO), when the listing says. */
  readonly lastModified?: string;
}

/** Where to list and how much per call. */
export interface ObjectVersionsQuery {
  readonly bucket: string;
  /** Key prefix; omit for the whole bucket. */
  readonly prefix?: string;
  /** Only versions of exactly this key (the listing is by prefix, so other keys may share it). */
  readonly exactKey?: string;
  /** Versions per listing call (at most 1,000). */
  readonly pageSize?: number;
  /** List only keys after this one (a cursor kept between runs). */
  readonly afterKey?: string;
}

/**
 * Every version and delete marker under a prefix, one page per `ListObjectVersions` call, in the
 * order S3 lists them. The one paginator of object versions: a caller that deletes what it lists
 * must finish iterating (or start again) before deleting, since deletions move the markers.
 */
export async function* objectVersionPages(
  s3: S3Client,
  query: ObjectVersionsQuery,
): AsyncGenerator<ObjectVersion[]> {
  let keyMarker: string | undefined = query.afterKey;
  let versionIdMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: query.bucket,
        Prefix: query.prefix ?? query.exactKey,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
        ...(query.pageSize ? { MaxKeys: query.pageSize } : {}),
      }),
    );
    const entries = [
      ...(page.Versions ?? []).map((v) => ({ v, deleteMarker: false })),
      ...(page.DeleteMarkers ?? []).map((v) => ({ v, deleteMarker: true })),
    ];
    yield entries
      .filter(({ v }) => v.Key !== undefined && (!query.exactKey || v.Key === query.exactKey))
      .map(({ v, deleteMarker }) => ({
        key: v.Key!,
        versionId: v.VersionId ?? 'null',
        deleteMarker,
        latest: Boolean(v.IsLatest),
        ...(v.LastModified ? { lastModified: v.LastModified.toISOString() } : {}),
      }));
    const truncated = page.IsTruncated === true && page.NextKeyMarker !== undefined;
    keyMarker = truncated ? page.NextKeyMarker : undefined;
    versionIdMarker = truncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker !== undefined);
}

/** Every version and delete marker under a prefix (all pages), see {@link objectVersionPages}. */
export async function listObjectVersions(
  s3: S3Client,
  query: ObjectVersionsQuery,
): Promise<ObjectVersion[]> {
  const out: ObjectVersion[] = [];
  for await (const page of objectVersionPages(s3, query)) out.push(...page);
  return out;
}
