import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ExportProgress } from '../../events/internal';
import { streamInto } from '../vault/document-streams';
import type { LogEntry } from '../processing-log/writer';
import { DocumentNotFoundError, DocumentShreddedError } from '../vault/errors';
import { isLive, vaultRefOf, type DocumentItem } from '../retention/retention-items';
import { formatPeriod } from '../retention/schedule';
import type { TenantCategory } from '../retention/tenant-policy';
import type { OperationContext } from './context';
import { documentFields, reasonOf } from './log-entries';
import { takePage, UNBOUNDED, type PageBudget } from './subject-pages';

/** Days an export stays in the export bucket (the bucket's lifecycle rule expires it). */
export const EXPORT_EXPIRY_DAYS = 30;

/** Bytes of each part of an exported document's upload (2 parts in flight). */
const EXPORT_PART_BYTES = 8 * 1024 * 1024;

/**
 * Documents exported at once: each streams through its own upload (at most 2 parts of
 * {@link EXPORT_PART_BYTES} in memory), so an export holds at most 64 MiB of parts.
 */
const EXPORT_CONCURRENCY = 4;

/** Format id written in every export manifest. */
export const EXPORT_FORMAT = 'privacy-ops/subject-export/v1';

/** What to export, and why. */
export interface ExportRequest {
  readonly tenant: string;
  /** The subject's id in clear: written inside the manifest only (the controller's copy). */
  readonly subjectId: string;
  /** The subject's pseudonym (keys, log). */
  readonly subject: string;
  /** `access` (GDPR Art. 15/20) or `closure` (handed to the controller before deletion). */
  readonly kind: 'access' | 'closure';
  /** Stable id of this export (request id, or the closure event): same id, same keys. */
  readonly exportId: string;
  /** The keyed pseudonym of the request id (log, object metadata). */
  readonly requestId?: string;
  /** The request id in clear: written inside the manifest only (the controller's copy). */
  readonly requestIdInClear?: string;
  readonly deadline?: string;
}

/** Where an export went, and its log entries. */
export interface ExportResult {
  readonly manifestKey: string;
  readonly prefix: string;
  /** Documents listed so far (by this page and the pages before). */
  readonly documents: number;
  readonly entries: LogEntry[];
  /** Where the next page starts, when documents remain (the manifest is the last page's). */
  readonly next?: ExportProgress;
}

/** Which page of an export to write: the first, or one after `progress`. */
export interface ExportPage {
  readonly page: number;
  readonly progress?: ExportProgress;
}

/** One document as listed in the manifest. */
export interface ManifestDocument {
  readonly documentId: string;
  readonly category: string;
  readonly description: string | null;
  readonly legalBasis: string | null;
  readonly purpose: string | null;
  readonly sensitive: boolean;
  readonly state: string;
  readonly restricted: boolean;
  readonly restrictionGround: string | null;
  readonly documentDate: string;
  readonly storedAt: string;
  readonly retainUntil: string | null;
  /**
   * The retention period that applies to the document for its controller (ISO 8601), the legal
   * duty once restricted, or null for a category the policy no longer has.
   */
  readonly retention: string | null;
  /** Where that period comes from: the controller's instruction or the policy's default. */
  readonly retentionSource: 'controller-instruction' | 'policy' | 'legal-duty' | null;
  readonly size: number;
  readonly sha256: string;
  /** Key of the decrypted document in the export bucket, or null when it can no longer be read. */
  readonly file: string | null;
  readonly unreadableReason: string | null;
}

/**
 * Writes a machine-readable export of a subject (a JSON manifest plus every readable document,
 * decrypted) to the export bucket under `<tenant>/<subject pseudonym>/<kind>-<export hash>/`.
 * Objects are encrypted by the bucket's default (SSE-KMS), tagged and stamped with their expiry
 * (the bucket's lifecycle rule deletes them after {@link EXPORT_EXPIRY_DAYS} days). Restricted data
 * is included: restriction stops processing, not the subject's right of access (Art. 15, 18(2)).
 * Re-running it writes the same keys (idempotent).
 */
export class SubjectExporter {
  constructor(
    private readonly ctx: OperationContext,
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly budget: PageBudget = UNBOUNDED,
  ) {}

  /**
   * Exports the subject's documents (states other than expiring / expired / erased), one page of
   * them: a page that leaves documents for the next writes its part of the manifest
   * (`parts/<page>.json`) and says where the next starts; the last page writes the manifest, every
   * part's documents and its own. An export of one page writes no part.
   */
  async export(request: ExportRequest, at: ExportPage = { page: 1 }): Promise<ExportResult> {
    const { tenant, subject } = request;
    const now = this.ctx.now();
    const expiresAt = new Date(now.getTime() + EXPORT_EXPIRY_DAYS * 86_400_000);
    const exportHash = createHash('sha256')
      .update(`${request.kind}|${request.exportId}`)
      .digest('hex')
      .slice(0, 24);
    const prefix = `${tenant}/${subject}/${request.kind}-${exportHash}/`;
    const tagging = `privacy-ops-kind=${request.kind}-export&privacy-ops-expires=${expiresAt.toISOString().slice(0, 10)}`;
    const object = (key: string, body: Readable | string, contentType: string) => ({
      Bucket: this.bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      Expires: expiresAt,
      Tagging: tagging,
      // Values the pipeline made (ASCII): nothing a producer chose reaches an HTTP header.
      Metadata: {
        'export-kind': request.kind,
        'expires-at': expiresAt.toISOString(),
        ...(request.requestId ? { 'request-ref': request.requestId } : {}),
      },
    });
    const put = (key: string, body: string, contentType: string) =>
      this.s3.send(new PutObjectCommand(object(key, body, contentType)));
    // A document streams from the vault into a multipart upload, never held whole in memory; a
    // read that fails part-way (integrity) aborts the upload, so no partial copy is left.
    const stream = async (key: string, body: Readable) => {
      const upload = new Upload({
        client: this.s3,
        params: object(key, body, 'application/octet-stream'),
        partSize: EXPORT_PART_BYTES,
        queueSize: 2,
      });
      await streamInto(finished(body), body, upload);
    };

    const tenantPolicy = this.ctx.policy.forTenant(tenant);
    const exportOne = async (item: DocumentItem) => {
      const category = tenantPolicy.find(item.category);
      let file: string | null = `${prefix}documents/${item.documentId}`;
      let unreadableReason: string | null = null;
      try {
        const { body } = await this.ctx.vault.open(vaultRefOf(item));
        await stream(file, body);
      } catch (error) {
        if (!(error instanceof DocumentShreddedError || error instanceof DocumentNotFoundError))
          throw error;
        file = null;
        unreadableReason = error.reason;
      }
      const entry: LogEntry = {
        ...documentFields(item, category),
        operation: 'exported',
        outcome: file ? 'success' : 'skipped',
        requestId: request.requestId ?? null,
        deadline: request.deadline ?? null,
        reason: reasonOf(
          category,
          `${request.kind}-export`,
          item.restricted ? 'restricted-data-included' : undefined,
          unreadableReason ?? undefined,
        ),
      };
      return { listed: manifestEntry(item, category, file, unreadableReason), entry };
    };
    const taken = await takePage(
      this.ctx.store,
      this.budget,
      { tenant, subject, after: at.progress?.after },
      (items) => Promise.all(items.filter((d) => isLive(d.state)).map(exportOne)),
      EXPORT_CONCURRENCY,
    );
    const listed = taken.results.map((r) => r.listed);
    const entries = taken.results.map((r) => r.entry);
    const total = (at.progress?.documents ?? 0) + listed.length;
    const partKey = (page: number) => `${prefix}parts/${page}.json`;
    if (taken.more) {
      await put(partKey(at.page), JSON.stringify(listed), 'application/json');
      const next = { after: taken.after, parts: at.page, documents: total };
      return { manifestKey: `${prefix}manifest.json`, prefix, documents: total, entries, next };
    }
    const documents: ManifestDocument[] = [];
    for (let page = 1; page < at.page; page += 1) {
      const got = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: partKey(page) }),
      );
      documents.push(...(JSON.parse(await got.Body!.transformToString()) as ManifestDocument[]));
    }
    documents.push(...listed);
    documents.sort((a, b) => a.documentId.localeCompare(b.documentId));
    const manifestKey = `${prefix}manifest.json`;
    const manifest = {
      format: EXPORT_FORMAT,
      kind: request.kind,
      tenant,
      subjectId: request.subjectId,
      subjectPseudonym: subject,
      controller: tenantPolicy.controller ?? null,
      timeZone: tenantPolicy.timeZone,
      fiscalYearEnd: tenantPolicy.fiscalYearEnd,
      requestId: request.requestIdInClear ?? null,
      requestRef: request.requestId ?? null,
      generatedAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
      documents,
    };
    await put(manifestKey, JSON.stringify(manifest, null, 2), 'application/json');
    return { manifestKey, prefix, documents: documents.length, entries };
  }
}

/** The retention period of a document for its controller, and where it comes from. */
function retentionOf(
  item: DocumentItem,
  category: TenantCategory | undefined,
): Pick<ManifestDocument, 'retention' | 'retentionSource'> {
  if (!category) return { retention: null, retentionSource: null };
  if (item.restricted)
    return { retention: formatPeriod(category.legalDuty), retentionSource: 'legal-duty' };
  return {
    retention: formatPeriod(category.period),
    retentionSource: category.instructed ? 'controller-instruction' : 'policy',
  };
}

function manifestEntry(
  item: DocumentItem,
  category: TenantCategory | undefined,
  file: string | null,
  unreadableReason: string | null,
): ManifestDocument {
  return {
    documentId: item.documentId,
    category: item.category,
    description: category?.description ?? null,
    legalBasis: category?.legalBasis ?? null,
    purpose: category?.purpose ?? null,
    sensitive: category?.sensitive ?? false,
    state: item.state,
    restricted: item.restricted ?? false,
    restrictionGround: item.restrictionGround ?? null,
    documentDate: item.documentDate,
    storedAt: item.storedAt,
    retainUntil: item.dueAt ?? null,
    ...retentionOf(item, category),
    size: item.size,
    sha256: item.sha256,
    file,
    unreadableReason,
  };
}
