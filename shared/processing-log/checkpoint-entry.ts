import * as z from 'zod/mini';
import { TreeFrontierJson } from '../transparency/tree-frontier';

/** Prefix of the checkpoint entries in the log bucket (outside the `dt=` partitions of records). */
export const CHECKPOINT_PREFIX = 'checkpoints/';

/** The `format` value of a checkpoint entry. */
export const CHECKPOINT_ENTRY_FORMAT = 'privacy-ops/checkpoint-entry';

/** The number sizes are counted down from in keys: 16 decimal nines, above 2^53 (so a bigint). */
const KEY_SIZE_LIMIT = 10n ** 16n - 1n;

/**
 * One log object added to the tree by an increment: its key, its place in its writer chain and
 * its number of records (leaves), in the order its records entered the tree.
 */
export const IncrementObject = z.object({
  key: z.string(),
  writer: z.string(),
  seq: z.int().check(z.nonnegative()),
  records: z.int().check(z.positive()),
});
/** One log object of an increment. */
export type IncrementObject = z.infer<typeof IncrementObject>;

/**
 * What the checkpointer writes at each checkpoint, one object per tree size, under Object Lock:
 * the signed checkpoint, the consistency proof from the previous one, the objects whose records
 * were appended (in leaf order), and its own state for the next run (the tree frontier, the time
 * it looked up to and the keys it already took from the last minutes). The signed note is the
 * only part that is trusted on its own: the rest is checked against it (the objects, read back in
 * this order, must hash to its root; the proof must lead from the previous root to it).
 */
export const CheckpointEntry = z.object({
  format: z.literal(CHECKPOINT_ENTRY_FORMAT),
  version: z.literal(1),
  /** The signed checkpoint note (C2SP tlog-checkpoint). */
  checkpoint: z.string(),
  /** Size of the previous checkpoint (0 for the first). */
  previousSize: z.int().check(z.nonnegative()),
  /** Consistency proof from the previous checkpoint to this one, base64 hashes. */
  consistencyProof: z.array(z.string()),
  /** The log objects appended by this checkpoint, in leaf order. */
  objects: z.array(IncrementObject),
  /** The tree frontier at this size: what the next run extends. */
  frontier: TreeFrontierJson,
  /** When this run looked for new objects (ISO 8601 UTC). */
  lookedAt: z.iso.datetime(),
  /** Keys already in the tree whose key time is within the write lag before `lookedAt`. */
  recentKeys: z.array(z.string()),
});
/** A checkpoint entry, version 1. */
export type CheckpointEntry = z.infer<typeof CheckpointEntry>;

/**
 * The key of the entry of a checkpoint of `size` leaves: the size counted down from a fixed limit,
 * zero-padded, so the newest checkpoint (largest tree) is the first key of the listing.
 */
export function checkpointEntryKey(size: number): string {
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad tree size ${size}`);
  return `${CHECKPOINT_PREFIX}${(KEY_SIZE_LIMIT - BigInt(size)).toString().padStart(16, '0')}.json`;
}

/** The tree size an entry key stands for, or undefined when the key is not an entry's. */
export function sizeOfEntryKey(key: string): number | undefined {
  const m = /^checkpoints\/(\d{16})\.json$/.exec(key);
  return m ? Number(KEY_SIZE_LIMIT - BigInt(m[1]!)) : undefined;
}

/** The origin (log name and key name) of the checkpoints of the log in `bucket`. */
export function checkpointOrigin(bucket: string): string {
  return `privacy-ops/${bucket}`;
}
