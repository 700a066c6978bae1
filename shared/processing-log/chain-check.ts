import type { Hash } from '../transparency/hash';
import { GENESIS } from './writer';

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
  /** Leaf hashes of its records (RFC 9162), for the checkpoint check; absent when not computed. */
  readonly leafHashes?: readonly Hash[];
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
  | 'unreadable'
  /** Checkpoints (checkpoint-check.ts). */
  | 'checkpoint-invalid'
  | 'checkpoint-rewritten'
  | 'checkpoint-deleted'
  | 'checkpoint-inconsistent'
  | 'checkpoint-mismatch'
  | 'checkpointed-missing'
  | 'not-checkpointed'
  | 'anchor-mismatch'
  /** Not under the log's compliance-mode Object Lock, or retained too short (see lock-check.ts). */
  | 'object-lock';

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
  for (const o of objects) {
    problems.push(...objectProblems(o));
    if (hasChainMetadata(o)) byWriter.set(o.writer!, [...(byWriter.get(o.writer!) ?? []), o]);
  }
  problems.push(...duplicateRecords(objects));
  const before = new Map(predecessors.map((p) => [p.writer, p]));
  for (const [writer, chain] of byWriter) {
    chain.sort((a, b) => a.seq! - b.seq!);
    problems.push(...chainStartProblems(writer, chain[0]!, before.get(writer)));
    problems.push(...chainLinkProblems(writer, chain));
  }
  problems.push(...keyVersionProblems(keyVersions));
  return {
    ok: problems.length === 0,
    objects: objects.length,
    records: objects.reduce((n, o) => n + o.recordIds.length, 0),
    writers: byWriter.size,
    problems,
    notes: [
      `${byWriter.size} writer chain(s); the newest object of each chain is proven present only by an external anchor (a later object of the same writer, or a recorded chain head)`,
    ],
  };
}

const hasChainMetadata = (o: VerifiedObject): boolean =>
  o.writer !== undefined &&
  o.seq !== undefined &&
  o.prev !== undefined &&
  o.claimedDigest !== undefined;

/** What is wrong with one object on its own: invalid lines, missing metadata, altered records. */
function objectProblems(o: VerifiedObject): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  if (o.invalidLines.length > 0)
    problems.push({
      kind: 'invalid-record',
      key: o.key,
      detail: `line(s) ${o.invalidLines.join(', ')} are not records of the log schema`,
    });
  if (!hasChainMetadata(o))
    problems.push({
      kind: 'missing-metadata',
      key: o.key,
      detail: 'object has no chain metadata (records-sha256, prev-sha256, writer, seq)',
    });
  else if (o.claimedDigest !== o.actualDigest)
    problems.push({
      kind: 'digest-mismatch',
      key: o.key,
      writer: o.writer,
      detail: `records digest is ${o.actualDigest}, the object claims ${o.claimedDigest}: the records were altered`,
    });
  return problems;
}

/** Record ids written more than once, across all objects (in the order the objects are given). */
function duplicateRecords(objects: readonly VerifiedObject[]): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const seen = new Map<string, string>();
  for (const o of objects)
    for (const id of o.recordIds) {
      const first = seen.get(id);
      if (first !== undefined)
        problems.push({
          kind: 'duplicate-record',
          key: o.key,
          detail: `record ${id} already appears in ${first}: written twice`,
        });
      else seen.set(id, o.key);
    }
  return problems;
}

/** Whether a writer's first object in the period starts its chain, or links to what came before. */
function chainStartProblems(
  writer: string,
  head: VerifiedObject,
  predecessor: ChainPredecessor | undefined,
): VerifyProblem[] {
  if (head.seq === 0)
    return head.prev === GENESIS
      ? []
      : [
          {
            kind: 'broken-link',
            key: head.key,
            writer,
            detail: `first object (seq 0) must have prev-sha256 = genesis, has ${head.prev}`,
          },
        ];
  if (predecessor && predecessor.seq === head.seq! - 1)
    return predecessor.digest === head.prev
      ? []
      : [
          {
            kind: 'broken-link',
            key: head.key,
            writer,
            detail: `seq ${head.seq} does not link to seq ${predecessor.seq} before the period`,
          },
        ];
  return [
    {
      kind: 'gap',
      key: head.key,
      writer,
      detail: predecessor
        ? `chain resumes at seq ${head.seq} but the last object found before the period is seq ${predecessor.seq}: objects removed`
        : `chain starts at seq ${head.seq}: seq 0..${head.seq! - 1} not found (removed, or before the period: widen --from)`,
    },
  ];
}

/** Forks, gaps and broken links between consecutive objects of one writer (sorted by seq). */
function chainLinkProblems(writer: string, chain: readonly VerifiedObject[]): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  for (let i = 1; i < chain.length; i += 1) {
    const previous = chain[i - 1]!;
    const current = chain[i]!;
    if (current.seq === previous.seq)
      problems.push({
        kind: 'fork',
        key: current.key,
        writer,
        detail: `seq ${current.seq} appears twice (also ${previous.key})`,
      });
    else if (current.seq! !== previous.seq! + 1)
      problems.push({
        kind: 'gap',
        key: current.key,
        writer,
        detail: `seq ${previous.seq! + 1}..${current.seq! - 1} missing between ${previous.key} and ${current.key}: object(s) removed`,
      });
    else if (current.prev !== previous.claimedDigest || current.prev !== previous.actualDigest)
      problems.push({
        kind: 'broken-link',
        key: current.key,
        writer,
        detail: `prev-sha256 of seq ${current.seq} does not match the records of seq ${previous.seq} (${previous.key}): an object was replaced`,
      });
  }
  return problems;
}

/** Keys hidden by a delete marker, or written more than once. */
function keyVersionProblems(keyVersions: readonly KeyVersions[]): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
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
  return problems;
}
