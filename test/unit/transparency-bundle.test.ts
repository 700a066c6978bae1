import { S3Client } from '@aws-sdk/client-s3';
import { generateKeyPairSync, sign } from 'node:crypto';
import { ProcessingLogWriter, toJsonLines } from '../../shared/processing-log/writer';
import { newCheckpoint, signCheckpoint } from '../../shared/transparency/checkpoint';
import { hashLeaf } from '../../shared/transparency/hash';
import { leavesOfJsonLines } from '../../shared/transparency/leaf';
import { MerkleTree } from '../../shared/transparency/merkle-tree';
import { NoteSigner } from '../../shared/transparency/note-ecdsa';
import {
  buildProofBundle,
  checkProofBundle,
  ProofBundle,
} from '../../shared/transparency/proof-bundle';
import { ProofError } from '../../shared/transparency/errors';

const ORIGIN = 'privacy-ops.example/test/processing-log';
const ALICE = 'a'.repeat(64);
const BOB = 'b'.repeat(64);

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer: NoteSigner = {
    publicKey,
    signatureEncoding: 'der',
    sign: async (m) => sign('sha256', m, privateKey),
  };
  return { signer, pem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

/** A small log: 3 objects of 4 records, subjects alternating, a checkpoint over all 12 leaves. */
async function fixture() {
  const writer = new ProcessingLogWriter({
    s3: new S3Client({ region: 'eu-west-1' }),
    bucket: 'b',
    actor: 'erasure-request',
  });
  const objects = [0, 1, 2].map((o) =>
    toJsonLines(
      [0, 1, 2, 3].map((r) =>
        writer.add({
          tenant: 'acme-sas',
          operation: 'erased',
          outcome: 'success',
          subject: r % 2 ? BOB : ALICE,
          reason: `o${o}r${r}`,
        }),
      ),
    ),
  );
  const leaves = objects.flatMap((o) => leavesOfJsonLines(o));
  const tree = MerkleTree.fromLeafHashes(leaves.map(hashLeaf));
  const { signer, pem } = keyPair();
  const checkpoint = await signCheckpoint(
    newCheckpoint(ORIGIN, tree.size, tree.root(), new Date()),
    signer,
  );
  const lines = leaves.map((l) => l.toString('utf8').slice(0, -1));
  const alice = lines.map((line, leafIndex) => ({ line, leafIndex })).filter((_, i) => i % 2 === 0);
  const bundle = buildProofBundle({
    checkpoint,
    publicKey: pem,
    tree,
    records: alice,
    subject: ALICE,
  });
  return { tree, checkpoint, pem, lines, alice, bundle, signer };
}

/** A deep copy of a bundle through JSON, as an auditor receives it. */
const received = (bundle: ProofBundle): ProofBundle =>
  JSON.parse(JSON.stringify(bundle)) as ProofBundle;

describe('proof bundles: build, take away, check offline', () => {
  it('proves every record of the subject against the signed checkpoint', async () => {
    // Prepare
    const { bundle, pem, alice } = await fixture();
    // Act
    const report = checkProofBundle(received(bundle), pem, { origin: ORIGIN });
    // Assess
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checkpoint?.size).toBe(12);
    expect(report.proven.map((p) => p.leafIndex)).toEqual(alice.map((a) => a.leafIndex));
    expect(received(bundle)).toMatchObject({
      format: 'privacy-ops/proof-bundle',
      version: 1,
      subject: ALICE,
    });
  });

  it('still proves against an older checkpoint after the log has grown', async () => {
    // Prepare: a checkpoint at 5 leaves, proofs built from the tree of 12
    const { tree, signer, pem, lines } = await fixture();
    const old = await signCheckpoint(newCheckpoint(ORIGIN, 5, tree.root(5), new Date()), signer);
    // Act
    const bundle = buildProofBundle({
      checkpoint: old,
      publicKey: pem,
      tree,
      records: [{ line: lines[4]!, leafIndex: 4 }],
    });
    // Assess
    expect(checkProofBundle(received(bundle), pem).ok).toBe(true);
    expect(() =>
      buildProofBundle({
        checkpoint: old,
        publicKey: pem,
        tree,
        records: [{ line: lines[6]!, leafIndex: 6 }],
      }),
    ).toThrow(ProofError);
  });

  it('names each failing record, and still proves the others', async () => {
    // Prepare
    const { bundle, pem, lines } = await fixture();
    const tampered = received(bundle);
    const [first, second, third, fourth, fifth] = tampered.records;
    first!.line = first!.line.replace('"success"', '"failed"'); // altered record
    second!.proof[0] = Buffer.alloc(32).toString('base64'); // altered proof
    third!.leafIndex = 5; // moved to another leaf (Bob's)
    fourth!.proof.pop(); // truncated proof
    fifth!.line = lines[1]!; // Bob's record slipped into Alice's bundle
    tampered.records.push({ ...tampered.records[5]! }); // listed twice
    tampered.records.push({ leafIndex: 12, line: lines[0]!, proof: [] }); // beyond the checkpoint
    tampered.records.push({ leafIndex: 1, line: 'not json', proof: [] });
    tampered.records.push({ leafIndex: 3, line: '{"a":1}', proof: [] });
    // Act
    const report = checkProofBundle(tampered, pem);
    // Assess
    expect(report.ok).toBe(false);
    expect(report.proven.map((p) => p.leafIndex)).toEqual([10]);
    expect(report.problems.map((p) => p.item)).toEqual([
      'record 1 (leaf 0)',
      'record 2 (leaf 2)',
      'record 3 (leaf 5)',
      'record 4 (leaf 6)',
      'record 5 (leaf 8)',
      'record 7 (leaf 10)',
      'record 8 (leaf 12)',
      'record 9 (leaf 1)',
      'record 10 (leaf 3)',
    ]);
    const details = report.problems.map((p) => p.detail).join('\n');
    expect(details).toMatch(/does not lead to the expected root/);
    expect(details).toMatch(/proof too short/);
    expect(details).toMatch(/not about subject/);
    expect(details).toMatch(/listed twice/);
    expect(details).toMatch(/not below the checkpoint size 12/);
    expect(details).toMatch(/not JSON/);
    expect(details).toMatch(/not a processing-log record/);
  });

  it('refuses the whole bundle when the checkpoint is altered, signed by another key, or malformed', async () => {
    // Prepare
    const { bundle, pem } = await fixture();
    const other = keyPair();
    const altered = {
      ...received(bundle),
      checkpoint: bundle.checkpoint.replace('\n12\n', '\n11\n'),
    };
    // Act
    const reports = {
      altered: checkProofBundle(altered, pem),
      otherKey: checkProofBundle(received(bundle), other.pem),
      badPem: checkProofBundle(received(bundle), 'not a key'),
      badFormat: checkProofBundle({ ...received(bundle), version: 2 }, pem),
      notJson: checkProofBundle('bundle', pem),
      otherOrigin: checkProofBundle(received(bundle), pem, { origin: 'other.example/log' }),
    };
    // Assess
    for (const report of Object.values(reports)) {
      expect(report.ok).toBe(false);
      expect(report.proven).toEqual([]);
    }
    expect(reports.altered.problems.map((p) => p.item)).toEqual(['checkpoint']);
    expect(reports.otherKey.problems.map((p) => p.item)).toEqual(['public key', 'checkpoint']);
    expect(reports.badPem.problems.map((p) => p.item)).toEqual(['public key']);
    expect(reports.badFormat.problems.map((p) => p.item)).toEqual(['bundle']);
    expect(reports.notJson.problems.map((p) => p.item)).toEqual(['bundle']);
    expect(reports.otherOrigin.problems.map((p) => p.item)).toEqual(['checkpoint']);
  });

  it("refuses to build a bundle from a tree that is not the checkpoint's", async () => {
    // Prepare
    const { checkpoint, pem, lines } = await fixture();
    const otherTree = MerkleTree.fromLeaves(lines.map((l) => Buffer.from(`${l} \n`)));
    // Act / Assess
    expect(() =>
      buildProofBundle({ checkpoint, publicKey: pem, tree: otherTree, records: [] }),
    ).toThrow(ProofError);
  });
});
