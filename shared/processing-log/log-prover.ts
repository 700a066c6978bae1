import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { KeyObject } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { leavesOfJsonLines } from '../transparency/leaf';
import { MerkleTree } from '../transparency/merkle-tree';
import { buildProofBundle, type ProofBundle } from '../transparency/proof-bundle';
import { openCheckpointEntries } from './checkpoint-check';
import { ProcessingLogRecord } from './record';

/** Which records to prove: those of a subject (pseudonym) or of a request. */
export type ProofSelection = { readonly subject: string } | { readonly requestId: string };

/**
 * Proves records of the processing log included in its latest signed checkpoint: reads the
 * checkpoints (signature and succession checked with the trusted key), rebuilds the tree from the
 * objects they list in their order, and returns a proof bundle of the selected records that an
 * auditor checks offline (`checkProofBundle`). Records written after the latest checkpoint are
 * not in it: take a checkpoint first. Refuses when a checkpoint does not verify or a
 * listed object is gone (run `log verify`).
 */
export class ProcessingLogProver {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async prove(
    selection: ProofSelection,
    trust: { readonly publicKey: KeyObject; readonly origin?: string },
  ): Promise<ProofBundle> {
    const { opened, problems } = await openCheckpointEntries({
      s3: this.s3,
      bucket: this.bucket,
      ...trust,
    });
    if (problems.length > 0)
      throw new Error(`the checkpoints do not verify (${problems[0]!.detail}): run log verify`);
    const latest = opened.at(-1);
    if (!latest) throw new Error('no checkpoint yet: take one (privacy-ops log checkpoint)');
    const keys = opened.flatMap((o) => o.entry.objects.map((x) => x.key));
    const lines = await this.readLines(keys);
    const leaves: Buffer[] = [];
    const records: Array<{ line: string; leafIndex: number }> = [];
    for (const key of keys) {
      for (const leaf of lines.get(key)!) {
        const line = leaf.toString('utf8', 0, leaf.length - 1);
        if (matches(line, selection)) records.push({ line, leafIndex: leaves.length });
        leaves.push(leaf);
      }
    }
    return buildProofBundle({
      checkpoint: latest.entry.checkpoint,
      publicKey: trust.publicKey,
      tree: MerkleTree.fromLeaves(leaves),
      records,
      ...('subject' in selection ? { subject: selection.subject } : {}),
    });
  }

  /** The leaves (record lines with their newline) of each object, by key; refuses a missing one. */
  private async readLines(keys: readonly string[]): Promise<Map<string, Buffer[]>> {
    const lines = new Map<string, Buffer[]>();
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        const got = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        const body = gunzipSync(Buffer.from(await got.Body!.transformToByteArray()));
        lines.set(key, leavesOfJsonLines(body));
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, keys.length) }, worker));
    return lines;
  }
}

function matches(line: string, selection: ProofSelection): boolean {
  const parsed = ProcessingLogRecord.safeParse(JSON.parse(line));
  if (!parsed.success) return false;
  return 'subject' in selection
    ? parsed.data.subject === selection.subject
    : parsed.data.requestId === selection.requestId;
}
