import { ProcessingLogRecord } from '../processing-log/record';
import { toJsonLines } from '../processing-log/writer';
import { MalformedError, TreeStateError } from './errors';

/*
 * Leaves of the processing-log tree. A leaf is one record exactly as the writer stored it: the
 * UTF-8 bytes of its JSON line including the terminating newline (`toJsonLines` of that record).
 * So the leaves of a log object, concatenated, are the object's uncompressed bytes, and a verifier
 * hashes the bytes it read, never a re-serialization.
 *
 * Order of the leaves (append-only, so fixed once written): records enter the tree in increments,
 * one per checkpoint. An increment holds the log objects not yet in the tree, ordered by writer id
 * (`<actor>/<instance>`, compared by UTF-16 code units, not locale), then by the object's `seq` in
 * its writer chain, then by line number within the object. Earlier increments come first; the
 * leaf index of a record is its position in that order, from 0.
 */

/** The leaf bytes of one record: its JSON line and newline, as `toJsonLines` writes it. */
export function leafOfRecord(record: ProcessingLogRecord): Buffer {
  return toJsonLines([record]);
}

/** The leaf bytes of a JSON line given without its newline (as in a proof bundle). */
export function leafOfLine(line: string): Buffer {
  if (line.length === 0 || line.includes('\n'))
    throw new MalformedError('log line', 'a record line is non-empty and holds no newline');
  return Buffer.from(`${line}\n`, 'utf8');
}

/**
 * The leaves of one log object, from its uncompressed JSON Lines bytes: one per line, newline
 * included. Refuses an empty object, an empty line, or a last line without its newline: the
 * writer never writes those, so they are not the writer's bytes.
 */
export function leavesOfJsonLines(jsonLines: Uint8Array): Buffer[] {
  const bytes = Buffer.from(jsonLines.buffer, jsonLines.byteOffset, jsonLines.byteLength);
  if (bytes.length === 0) throw new MalformedError('log object', 'no records');
  if (bytes[bytes.length - 1] !== 0x0a)
    throw new MalformedError('log object', 'the last line has no newline');
  const leaves: Buffer[] = [];
  for (let start = 0; start < bytes.length;) {
    const end = bytes.indexOf(0x0a, start) + 1;
    if (end === start + 1)
      throw new MalformedError('log object', `line ${leaves.length + 1} is empty`);
    leaves.push(bytes.subarray(start, end));
    start = end;
  }
  return leaves;
}

/** Where a record sits in the log: its writer chain, its object's place in it, its line (1-based). */
export interface LogPosition {
  readonly writer: string;
  readonly seq: number;
  readonly line: number;
}

/** Orders two records of one increment: writer id, then seq, then line (see the order above). */
export function compareLogPositions(a: LogPosition, b: LogPosition): number {
  if (a.writer !== b.writer) return a.writer < b.writer ? -1 : 1;
  return a.seq - b.seq || a.line - b.line;
}

/**
 * The objects of one increment in the order their records enter the tree (writer id, then seq).
 * Refuses two objects at the same place of one writer chain (a fork): their order would be
 * arbitrary, so the fork must be resolved before either is added.
 */
export function appendOrder<T extends { readonly writer: string; readonly seq: number }>(
  objects: readonly T[],
): T[] {
  const at = (o: T): LogPosition => ({ writer: o.writer, seq: o.seq, line: 0 });
  const sorted = [...objects].sort((a, b) => compareLogPositions(at(a), at(b)));
  sorted.forEach((o, i) => {
    const next = sorted[i + 1];
    if (next && next.writer === o.writer && next.seq === o.seq)
      throw new TreeStateError(`writer ${o.writer} has two objects with seq ${o.seq} (a fork)`);
  });
  return sorted;
}
