import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  ListObjectVersionsCommandOutput,
  S3Client,
} from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { ProcessingLogRecord } from './record';
import { GENESIS, LOG_OBJECT_METADATA, recordsDigest } from './writer';

/** What a verifier knows about one current log object after reading it. */
export interface VerifiedObject {
  readonly key: string;
  /** Writer instance, sequence number and digests from the object's metadata (absent if missing). */
  readonly writer?: string;
  readonly seq?: number;
  readonly prev?: string;
  readonly claimedDigest?: string;
  /** SHA-256 of the records actually read. */
  readonly actualDigest: string;
  readonly recordIds: readonly string[];
  /** Lines that are not valid records of the schema (1-based line numbers). */
  readonly invalidLines: readonly number[];
}

/** The kind of a problem found by {@link verifyLogObjects}. */
export type VerifyProblemKind =
  | 'digest-mismatch'
  | 'missing-metadata'
  | 'invalid-record'
  | 'gap'
  | 'broken-link'
  | 'fork'
  | 'duplicate-record'
  | 'overwritten'
  | 'deleted'
  | 'unreadable';

/** One finding of the verifier: what, where, and in words. */
export interface VerifyProblem {
  readonly kind: VerifyProblemKind;
  readonly key?: string;
  readonly writer?: string;
  readonly detail: string;
}

/** The outcome of a verification over a period. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly objects: number;
  readonly records: number;
  readonly writers: number;
  readonly problems: readonly VerifyProblem[];
  /** Limits of what was proven (e.g. the last object of each chain). */
  readonly notes: readonly string[];
}

/** How the versions of one key look in a versioned bucket. */
export interface KeyVersions {
  readonly key: string;
  /** Object versions (not delete markers), newest first. */
  readonly versions: number;
  /** True when the newest entry of the key is a delete marker. */
  readonly deleted: boolean;
}

/** Known tail of a writer chain before the verified period (found by looking back). */
export interface ChainPredecessor {
  readonly writer: string;
  readonly seq: number;
  readonly digest: string;
}

/**
 * Checks log objects already read (pure): each object's records against its digest, each
 * writer's chain (seq 0, 1, 2… each `prev` equal to the previous digest, first `prev` = genesis
 * unless a predecessor from before the period is given), record ids never repeated, keys never
 * overwritten nor hidden by a delete marker.
 */
export function verifyLogObjects(
  objects: readonly VerifiedObject[],
  keyVersions: readonly KeyVersions[] = [],
  predecessors: readonly ChainPredecessor[] = [],
): VerifyReport {
  const problems: VerifyProblem[] = [];
  const byWriter = new Map<string, VerifiedObject[]>();
  const seenRecords = new Map<string, string>();
  let records = 0;
  for (const o of objects) {
    records += o.recordIds.length;
    if (o.invalidLines.length > 0)
      problems.push({
        kind: 'invalid-record',
        key: o.key,
        detail: `line(s) ${o.invalidLines.join(', ')} are not records of the log schema`,
      });
    if (
      o.writer === undefined ||
      o.seq === undefined ||
      o.prev === undefined ||
      o.claimedDigest === undefined
    ) {
      problems.push({
        kind: 'missing-metadata',
        key: o.key,
        detail: 'object has no chain metadata (records-sha256, prev-sha256, writer, seq)',
      });
    } else {
      if (o.claimedDigest !== o.actualDigest)
        problems.push({
          kind: 'digest-mismatch',
          key: o.key,
          writer: o.writer,
          detail: `records digest is ${o.actualDigest}, the object claims ${o.claimedDigest}: the records were altered`,
        });
      byWriter.set(o.writer, [...(byWriter.get(o.writer) ?? []), o]);
    }
    for (const id of o.recordIds) {
      const first = seenRecords.get(id);
      if (first !== undefined)
        problems.push({
          kind: 'duplicate-record',
          key: o.key,
          detail: `record ${id} already appears in ${first}: written twice`,
        });
      else seenRecords.set(id, o.key);
    }
  }
  const before = new Map(predecessors.map((p) => [p.writer, p]));
  for (const [writer, chain] of byWriter) {
    chain.sort((a, b) => a.seq! - b.seq!);
    const head = chain[0]!;
    const predecessor = before.get(writer);
    if (head.seq === 0) {
      if (head.prev !== GENESIS)
        problems.push({
          kind: 'broken-link',
          key: head.key,
          writer,
          detail: `first object (seq 0) must have prev-sha256 = genesis, has ${head.prev}`,
        });
    } else if (predecessor && predecessor.seq === head.seq! - 1) {
      if (predecessor.digest !== head.prev)
        problems.push({
          kind: 'broken-link',
          key: head.key,
          writer,
          detail: `seq ${head.seq} does not link to seq ${predecessor.seq} before the period`,
        });
    } else {
      problems.push({
        kind: 'gap',
        key: head.key,
        writer,
        detail: predecessor
          ? `chain resumes at seq ${head.seq} but the last object found before the period is seq ${predecessor.seq}: objects removed`
          : `chain starts at seq ${head.seq}: seq 0..${head.seq! - 1} not found (removed, or before the period: widen --from)`,
      });
    }
    for (let i = 1; i < chain.length; i += 1) {
      const previous = chain[i - 1]!;
      const current = chain[i]!;
      if (current.seq === previous.seq) {
        problems.push({
          kind: 'fork',
          key: current.key,
          writer,
          detail: `seq ${current.seq} appears twice (also ${previous.key})`,
        });
        continue;
      }
      if (current.seq! !== previous.seq! + 1) {
        problems.push({
          kind: 'gap',
          key: current.key,
          writer,
          detail: `seq ${previous.seq! + 1}..${current.seq! - 1} missing between ${previous.key} and ${current.key}: object(s) removed`,
        });
        continue;
      }
      if (current.prev !== previous.claimedDigest || current.prev !== previous.actualDigest)
        problems.push({
          kind: 'broken-link',
          key: current.key,
          writer,
          detail: `prev-sha256 of seq ${current.seq} does not match the records of seq ${previous.seq} (${previous.key}): an object was replaced`,
        });
    }
  }
  for (const k of keyVersions) {
    if (k.deleted)
      problems.push({
        kind: 'deleted',
        key: k.key,
        detail: `current version is a delete marker (${k.versions} locked version(s) retained): object removed from the log`,
      });
    if (k.versions > 1)
      problems.push({
        kind: 'overwritten',
        key: k.key,
        detail: `${k.versions} versions of a log object: a log object is written once`,
      });
  }
  return {
    ok: problems.length === 0,
    objects: objects.length,
    records,
    writers: byWriter.size,
    problems,
    notes: [
      `${byWriter.size} writer chain(s); the newest object of each chain is proven present only by an external anchor (a later object of the same writer, or a recorded chain head)`,
    ],
  };
}

/** Options of a {@link ProcessingLogVerifier} run. */
export interface VerifyOptions {
  /** First day (YYYY-MM-DD, inclusive); all days when omitted. */
  readonly from?: string;
  /** Last day (YYYY-MM-DD, inclusive). */
  readonly to?: string;
  /** Days looked back for the predecessor of a chain that starts before `from`. @default 2 */
  readonly lookbackDays?: number;
  /** Progress output on long work. */
  readonly progress?: (message: string) => void;
  /** Parallel object reads. @default 16 */
  readonly concurrency?: number;
}

interface ListedVersion {
  key: string;
  versionId?: string;
  isLatest: boolean;
  deleteMarker: boolean;
}

/**
 * The `dt=` prefixes of the log objects of a period: one per day from `from` (default
 * 2020-01-01) to `to` (default today), or the whole log when neither is given.
 */
export function partitionPrefixes(from?: string, to?: string): string[] {
  if (!from && !to) return ['dt='];
  return daysBetween(from ?? '2020-01-01', to ?? new Date().toISOString().slice(0, 10)).map(
    (d) => `dt=${d}/`,
  );
}

/** Days from `from` to `to` inclusive (YYYY-MM-DD). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += 86_400_000)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/**
 * Verifies the processing log with nothing but read access to the log bucket: lists every
 * version under the `dt=` partitions of the period, reads each current object, recomputes its
 * records digest and checks the writer chains (see {@link verifyLogObjects}).
 */
export class ProcessingLogVerifier {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** Runs the verification over a period (or the whole log). */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    const progress = options.progress ?? (() => undefined);
    for (const d of [options.from, options.to])
      if (d !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(d))
        throw new Error(`invalid date "${d}": use YYYY-MM-DD`);
    const prefixes = partitionPrefixes(options.from, options.to);
    if (prefixes.length > 3660) throw new Error('period longer than ten years: narrow it');
    const listed: ListedVersion[] = [];
    for (const prefix of prefixes) listed.push(...(await this.listVersions(prefix)));
    const keys = new Map<string, ListedVersion[]>();
    for (const v of listed) keys.set(v.key, [...(keys.get(v.key) ?? []), v]);
    const keyVersions: KeyVersions[] = [];
    const current: string[] = [];
    for (const [key, versions] of keys) {
      const latest = versions.find((v) => v.isLatest);
      const objectVersions = versions.filter((v) => !v.deleteMarker).length;
      keyVersions.push({ key, versions: objectVersions, deleted: latest?.deleteMarker ?? false });
      if (latest && !latest.deleteMarker) current.push(key);
    }
    current.sort();
    progress(`reading ${current.length} log object(s) from ${this.bucket}`);
    const problems: VerifyProblem[] = [];
    const objects = await this.readAll(current, options.concurrency ?? 16, progress, problems);

    const predecessors: ChainPredecessor[] = [];
    if (options.from) {
      const starts = new Map<string, VerifiedObject>();
      for (const o of objects)
        if (o.writer && o.seq !== undefined && (starts.get(o.writer)?.seq ?? Infinity) > o.seq)
          starts.set(o.writer, o);
      const late = [...starts.values()].filter((o) => o.seq! > 0);
      if (late.length > 0)
        progress(`looking before ${options.from} for ${late.length} chain(s) that started earlier`);
      const fromTime = Date.parse(`${options.from}T00:00:00Z`);
      for (let back = 1; back <= (options.lookbackDays ?? 2) && late.length > 0; back += 1) {
        const day = new Date(fromTime - back * 86_400_000).toISOString().slice(0, 10);
        for (const o of [...late]) {
          const [actor, instance] = o.writer!.split('/');
          const keysBefore = (await this.listVersions(`dt=${day}/${actor}/`))
            .filter((v) => v.isLatest && !v.deleteMarker && v.key.includes(`-${instance}-`))
            .map((v) => v.key);
          if (keysBefore.length === 0) continue;
          const before = (await this.readAll(keysBefore, 8, () => undefined, problems)).filter(
            (b) => b.writer === o.writer && b.seq !== undefined,
          );
          if (before.length === 0) continue;
          const last = before.reduce((a, b) => (b.seq! > a.seq! ? b : a));
          predecessors.push({ writer: o.writer!, seq: last.seq!, digest: last.actualDigest });
          late.splice(late.indexOf(o), 1);
        }
      }
    }
    const report = verifyLogObjects(objects, keyVersions, predecessors);
    return {
      ...report,
      ok: report.ok && problems.length === 0,
      problems: [...problems, ...report.problems],
    };
  }

  private async listVersions(prefix: string): Promise<ListedVersion[]> {
    const out: ListedVersion[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page: ListObjectVersionsCommandOutput = await this.s3.send(
        new ListObjectVersionsCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      for (const v of page.Versions ?? [])
        out.push({
          key: v.Key!,
          versionId: v.VersionId,
          isLatest: !!v.IsLatest,
          deleteMarker: false,
        });
      for (const m of page.DeleteMarkers ?? [])
        out.push({
          key: m.Key!,
          versionId: m.VersionId,
          isLatest: !!m.IsLatest,
          deleteMarker: true,
        });
      if (!page.IsTruncated) return out;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
  }

  private async readAll(
    keys: readonly string[],
    concurrency: number,
    progress: (message: string) => void,
    problems: VerifyProblem[],
  ): Promise<VerifiedObject[]> {
    const results: VerifiedObject[] = [];
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        try {
          results.push(await this.read(key));
        } catch (error) {
          problems.push({
            kind: 'unreadable',
            key,
            detail: `cannot read or decompress the object (${(error as Error).name}: ${(error as Error).message})`,
          });
        }
        done += 1;
        if (done % 500 === 0) progress(`  ${done}/${keys.length} objects read`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
    return results;
  }

  /** Reads one current log object: metadata, records digest, record ids. */
  private async read(key: string): Promise<VerifiedObject> {
    const response = await this.s3.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: 'ENABLED' }),
    );
    const body = gunzipSync(Buffer.from(await response.Body!.transformToByteArray()));
    const meta = response.Metadata ?? {};
    const m = LOG_OBJECT_METADATA;
    const recordIds: string[] = [];
    const invalidLines: number[] = [];
    const lines = body.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    lines.forEach((line, i) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        invalidLines.push(i + 1);
        return;
      }
      const record = ProcessingLogRecord.safeParse(parsed);
      if (record.success) recordIds.push(record.data.recordId);
      else invalidLines.push(i + 1);
    });
    const seq = meta[m.seq] !== undefined ? Number(meta[m.seq]) : undefined;
    return {
      key,
      writer: meta[m.writer],
      seq: seq !== undefined && Number.isInteger(seq) && seq >= 0 ? seq : undefined,
      prev: meta[m.prevSha256],
      claimedDigest: meta[m.recordsSha256],
      actualDigest: recordsDigest(body),
      recordIds,
      invalidLines,
    };
  }
}

/** A short human-readable rendering of a {@link VerifyReport}. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines = [
    report.ok ? 'processing log verified: intact' : 'processing log verification FAILED',
    `  objects: ${report.objects}, records: ${report.records}, writer chains: ${report.writers}`,
  ];
  if (report.problems.length > 0) {
    lines.push(`  ${report.problems.length} problem(s):`);
    for (const p of report.problems)
      lines.push(`  - ${p.kind}${p.key ? ` ${p.key}` : ''}: ${p.detail}`);
  }
  for (const n of report.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}
