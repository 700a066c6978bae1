import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { KeyObject } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { hashLeaf } from '../transparency/hash';
import { leavesOfJsonLines } from '../transparency/leaf';
import { listObjectVersions, type ObjectVersion } from '../aws/object-versions';
import {
  verifyLogObjects,
  type ChainPredecessor,
  type KeyVersions,
  type VerifiedObject,
  type VerifyProblem,
  type VerifyReport,
} from './chain-check';
import { objectLockProblems, readLockRule, type ObjectLockState } from './lock-check';
import { checkCheckpoints } from './checkpoint-check';
import { ProcessingLogRecord } from './record';
import { LOG_OBJECT_METADATA, recordsDigest } from './writer';

export type { VerifyReport } from './chain-check';

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
  /**
   * The checkpoint signing key (pinned PEM or KMS `GetPublicKey`): the log is then checked
   * against its signed checkpoints too (checkpoint-check.ts). Unchecked when omitted.
   */
  readonly publicKey?: KeyObject;
  /** Origin the checkpoints must carry (a copy of a log keeps its origin). @default this bucket's */
  readonly origin?: string;
  /** The anchor bucket (the checkpoints' replica in the other EU region) and its client. */
  readonly anchor?: { readonly s3: S3Client; readonly bucket: string };
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
  /** Object Lock state of each object read, by key. */
  private readonly locks = new Map<string, ObjectLockState>();

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
    const listed: ObjectVersion[] = [];
    for (const prefix of prefixes) listed.push(...(await this.listVersions(prefix)));
    const { keyVersions, current } = currentObjects(listed);
    progress(`reading ${current.length} log object(s) from ${this.bucket}`);
    const problems: VerifyProblem[] = [];
    const objects = await this.readAll(current, options.concurrency ?? 16, progress, problems);
    const predecessors = options.from
      ? await this.predecessors(
          objects,
          options.from,
          options.lookbackDays ?? 2,
          progress,
          problems,
        )
      : [];
    const report = verifyLogObjects(objects, keyVersions, predecessors);
    problems.push(...(await this.lockProblems(current)));
    const checkpoints = options.publicKey
      ? await checkCheckpoints({
          s3: this.s3,
          bucket: this.bucket,
          publicKey: options.publicKey,
          origin: options.origin,
          anchor: options.anchor,
          objects: options.from || options.to ? undefined : objects,
        })
      : { problems: [], notes: ['checkpoints not checked: no public key given'] };
    const all = [...problems, ...report.problems, ...checkpoints.problems];
    return {
      ...report,
      ok: report.ok && all.length === 0,
      problems: all,
      notes: [...report.notes, ...checkpoints.notes],
    };
  }

  /** Object Lock problems of the objects read (see {@link objectLockProblems}). */
  private async lockProblems(keys: readonly string[]): Promise<VerifyProblem[]> {
    const rule = await readLockRule(this.s3, this.bucket);
    const states = keys
      .map((key) => this.locks.get(key))
      .filter((state): state is ObjectLockState => state !== undefined);
    return objectLockProblems(states, rule);
  }

  /**
   * The last object before `from` of each writer chain that starts later than seq 0 in the
   * period, looked for up to `lookbackDays` days back (so its first object can be linked).
   */
  private async predecessors(
    objects: readonly VerifiedObject[],
    from: string,
    lookbackDays: number,
    progress: (message: string) => void,
    problems: VerifyProblem[],
  ): Promise<ChainPredecessor[]> {
    const predecessors: ChainPredecessor[] = [];
    const starts = new Map<string, VerifiedObject>();
    for (const o of objects)
      if (o.writer && o.seq !== undefined && (starts.get(o.writer)?.seq ?? Infinity) > o.seq)
        starts.set(o.writer, o);
    const late = [...starts.values()].filter((o) => o.seq! > 0);
    if (late.length > 0)
      progress(`looking before ${from} for ${late.length} chain(s) that started earlier`);
    const fromTime = Date.parse(`${from}T00:00:00Z`);
    for (let back = 1; back <= lookbackDays && late.length > 0; back += 1) {
      const day = new Date(fromTime - back * 86_400_000).toISOString().slice(0, 10);
      for (const o of [...late]) {
        const [actor, instance] = o.writer!.split('/');
        const keysBefore = (await this.listVersions(`dt=${day}/${actor}/`))
          .filter((v) => v.latest && !v.deleteMarker && v.key.includes(`-${instance}-`))
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
    return predecessors;
  }

  private listVersions(prefix: string): Promise<ObjectVersion[]> {
    return listObjectVersions(this.s3, { bucket: this.bucket, prefix });
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
    this.locks.set(key, {
      key,
      mode: response.ObjectLockMode,
      retainUntil: response.ObjectLockRetainUntilDate,
      lastModified: response.LastModified,
    });
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
    let leafHashes: Buffer[] = [];
    try {
      leafHashes = leavesOfJsonLines(body).map((leaf) => Buffer.from(hashLeaf(leaf)));
    } catch {
      // not the writer's bytes (reported as invalid records); no leaf can match a checkpoint
    }
    return {
      key,
      writer: meta[m.writer],
      seq: seq !== undefined && Number.isInteger(seq) && seq >= 0 ? seq : undefined,
      prev: meta[m.prevSha256],
      claimedDigest: meta[m.recordsSha256],
      actualDigest: recordsDigest(body),
      recordIds,
      invalidLines,
      leafHashes,
    };
  }
}

/**
 * How the versions of each listed key look, and the keys whose current version is an object (not
 * a delete marker), sorted.
 */
function currentObjects(listed: readonly ObjectVersion[]): {
  keyVersions: KeyVersions[];
  current: string[];
} {
  const keys = new Map<string, ObjectVersion[]>();
  for (const v of listed) keys.set(v.key, [...(keys.get(v.key) ?? []), v]);
  const keyVersions: KeyVersions[] = [];
  const current: string[] = [];
  for (const [key, versions] of keys) {
    const latest = versions.find((v) => v.latest);
    const objectVersions = versions.filter((v) => !v.deleteMarker).length;
    keyVersions.push({ key, versions: objectVersions, deleted: latest?.deleteMarker ?? false });
    if (latest && !latest.deleteMarker) current.push(key);
  }
  current.sort();
  return { keyVersions, current };
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
