import type { S3Client } from '@aws-sdk/client-s3';
import { listObjectVersions } from '../aws/object-versions';
import { deleteAllObjectVersions } from '../vault/version-deletion';

/** Versions listed (and held in memory) per round when deleting a copy. */
const COPY_VERSIONS_ROUND = 1000;

/** Options of {@link SubjectCopies}. */
export interface SubjectCopiesOptions {
  /** Client of the export and upload buckets. */
  readonly s3: S3Client;
  /** The export bucket: subject exports under `<tenant>/<subject pseudonym>/<kind>-<hash>/`. */
  readonly exportBucket: string;
  /** The upload (landing) bucket. */
  readonly uploadBucket: string;
}

/** One export of a subject found in the export bucket. */
export interface ExportCopy {
  /** `access` or `closure` (the export's kind, from its key). */
  readonly kind: string;
  /** Its key prefix: `<tenant>/<subject pseudonym>/<kind>-<hash>/`, no personal data. */
  readonly prefix: string;
}

/**
 * The copies of a subject's data outside the vault that an erasure removes: exports (decrypted
 * documents and the subject id in clear, kept 30 days by the bucket's lifecycle) and upload
 * objects a refused or crashed upload left in the landing bucket. Deletes every version and
 * delete marker (the buckets are versioned); never reads a copy.
 */
export class SubjectCopies {
  constructor(private readonly options: SubjectCopiesOptions) {}

  /** The subject's exports (any version left, current or not), found by its pseudonym prefix. */
  async exportsOf(tenant: string, subject: string): Promise<ExportCopy[]> {
    const root = `${tenant}/${subject}/`;
    const versions = await listObjectVersions(this.options.s3, {
      bucket: this.options.exportBucket,
      prefix: root,
    });
    const prefixes = new Set<string>();
    for (const { key } of versions) {
      const folder = key.slice(root.length).split('/')[0];
      if (folder && key.length > root.length + folder.length) prefixes.add(`${root}${folder}/`);
    }
    return [...prefixes].sort().map((prefix) => ({
      kind: prefix.slice(root.length).split('-')[0],
      prefix,
    }));
  }

  /** Deletes every version of one export; returns the versions removed. */
  async deleteExport(copy: ExportCopy): Promise<number> {
    const { objectsDeleted } = await deleteAllObjectVersions(this.options.s3, {
      bucket: this.options.exportBucket,
      prefix: copy.prefix,
      roundSize: COPY_VERSIONS_ROUND,
    });
    return objectsDeleted;
  }

  /** How many versions (and delete markers) of one upload object there are. */
  async uploadVersions(key: string): Promise<number> {
    const versions = await listObjectVersions(this.options.s3, {
      bucket: this.options.uploadBucket,
      prefix: key,
    });
    return versions.filter((v) => v.key === key).length;
  }

  /** Deletes every version of one upload object; returns the versions removed. */
  async deleteUpload(key: string): Promise<number> {
    const { objectsDeleted } = await deleteAllObjectVersions(this.options.s3, {
      bucket: this.options.uploadBucket,
      prefix: key,
      exactKey: key,
      roundSize: COPY_VERSIONS_ROUND,
    });
    return objectsDeleted;
  }
}
