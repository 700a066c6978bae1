import fc from 'fast-check';
import { generateKeyPairSync, sign } from 'node:crypto';
import {
  Checkpoint,
  checkpointTime,
  formatCheckpoint,
  newCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  verifyCheckpointSuccession,
} from '../../shared/transparency/checkpoint';
import { MerkleTree } from '../../shared/transparency/merkle-tree';
import { NoteSigner } from '../../shared/transparency/note-ecdsa';
import { parseSignedNote } from '../../shared/transparency/signed-note';
import { MalformedError, ProofError, SignatureError } from '../../shared/transparency/errors';

const ROOT = Buffer.alloc(32, 7);
const ORIGIN = 'privacy-ops.example/eu-west-1/processing-log';

function testSigner(): { signer: NoteSigner; pem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    signer: {
      publicKey,
      signatureEncoding: 'der',
      sign: async (message) => sign('sha256', message, privateKey),
    },
  };
}

describe('checkpoints (C2SP tlog-checkpoint): the note text', () => {
  it('reads the specification example: origin, size, base64 root', () => {
    // Example of C2SP/C2SP tlog-checkpoint.md @ 2793893976c835db049c194d8f2c4f946dcb70ba
    // Act
    const checkpoint = parseCheckpoint(
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    );
    // Assess
    expect(checkpoint.origin).toBe('example.com/behind-the-sofa');
    expect(checkpoint.size).toBe(20852163);
    expect(Buffer.from(checkpoint.rootHash).toString('base64')).toBe(
      'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=',
    );
    expect(checkpoint.extensions).toEqual([]);
  });

  it('writes origin, size, root and the timestamp line, and reads them back', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.date({ min: new Date(0), max: new Date('9999-12-31'), noInvalidDate: true }),
        (size, root, time) => {
          // Prepare
          const checkpoint = newCheckpoint(ORIGIN, size, root, time);
          // Act
          const text = formatCheckpoint(checkpoint);
          const read = parseCheckpoint(text);
          // Assess
          expect(text).toBe(
            `${ORIGIN}\n${size}\n${Buffer.from(root).toString('base64')}\ntimestamp ${time.toISOString()}\n`,
          );
          expect({ ...read, rootHash: Buffer.from(read.rootHash) }).toEqual({
            ...checkpoint,
            rootHash: Buffer.from(root),
          });
          expect(checkpointTime(read)).toEqual(time);
        },
      ),
    );
  });

  it.each([
    ['two lines', 'o\n0\n'],
    ['no final newline', `o\n1\n${ROOT.toString('base64')}`],
    ['an empty origin', `\n1\n${ROOT.toString('base64')}\n`],
    ['a leading zero', `o\n01\n${ROOT.toString('base64')}\n`],
    ['a negative size', `o\n-1\n${ROOT.toString('base64')}\n`],
    ['an exponent', `o\n1e3\n${ROOT.toString('base64')}\n`],
    ['a size beyond 2^53', `o\n9007199254740993\n${ROOT.toString('base64')}\n`],
    ['a 31-byte root', `o\n1\n${Buffer.alloc(31).toString('base64')}\n`],
    ['an unpadded root', `o\n1\n${ROOT.toString('base64').replace(/=$/, '')}\n`],
    ['an empty extension line', `o\n1\n${ROOT.toString('base64')}\n\nx\n`],
  ])('refuses a checkpoint with %s', (_, text) => {
    // Act / Assess
    expect(() => parseCheckpoint(text)).toThrow(MalformedError);
  });

  it('refuses to write an origin that cannot be the key name, or a bad extension', () => {
    // Prepare
    const good = newCheckpoint(ORIGIN, 1, ROOT, new Date());
    const bad: Checkpoint[] = [
      { ...good, origin: 'has space' },
      { ...good, origin: 'a+b' },
      { ...good, extensions: ['two\nlines'] },
      { ...good, size: -1 },
      { ...good, rootHash: ROOT.subarray(1) },
    ];
    // Act / Assess
    for (const checkpoint of bad)
      expect(() => formatCheckpoint(checkpoint)).toThrow(MalformedError);
  });

  it('refuses a missing, repeated or malformed timestamp line', () => {
    // Prepare
    const base = { origin: ORIGIN, size: 1, rootHash: ROOT };
    const bad = [
      [],
      ['timestamp 2026-03-14T09:26:53.589Z', 'timestamp 2026-03-14T09:26:53.589Z'],
      ['timestamp 2026-03-14'],
      ['timestamp 2026-02-30T00:00:00.000Z'],
      ['timestamp 1688058656037355364'],
    ];
    // Act / Assess
    for (const extensions of bad)
      expect(() => checkpointTime({ ...base, extensions })).toThrow(MalformedError);
  });
});

describe('checkpoints: signing and opening', () => {
  it('signs under the origin as key name, and opens with the public key alone', async () => {
    // Prepare
    const { signer, pem } = testSigner();
    const checkpoint = newCheckpoint(ORIGIN, 42, ROOT, new Date('2026-03-14T09:26:53.589Z'));
    // Act
    const note = await signCheckpoint(checkpoint, signer);
    const opened = openCheckpoint(note, { publicKey: pem, origin: ORIGIN });
    // Assess
    expect(note.startsWith(formatCheckpoint(checkpoint))).toBe(true);
    expect(parseSignedNote(note).signatures.map((s) => s.keyName)).toEqual([ORIGIN]);
    expect(opened.size).toBe(42);
    expect(checkpointTime(opened).toISOString()).toBe('2026-03-14T09:26:53.589Z');
    expect(openCheckpoint(Buffer.from(note), { publicKey: signer.publicKey }).origin).toBe(ORIGIN);
  });

  it('refuses a checkpoint altered after signing, another key, or another origin', async () => {
    // Prepare
    const { signer, pem } = testSigner();
    const note = await signCheckpoint(newCheckpoint(ORIGIN, 42, ROOT, new Date()), signer);
    // Act / Assess
    expect(() => openCheckpoint(note.replace('\n42\n', '\n43\n'), { publicKey: pem })).toThrow(
      SignatureError,
    );
    expect(() => openCheckpoint(note, { publicKey: testSigner().pem })).toThrow(SignatureError);
    expect(() => openCheckpoint(note, { publicKey: pem, origin: 'other.example/log' })).toThrow(
      SignatureError,
    );
    expect(() =>
      openCheckpoint(note, { publicKey: pem, keyName: ORIGIN, origin: 'other.example/log' }),
    ).toThrow(MalformedError);
  });

  it('opens a real Rekor checkpoint, whose key name is not its origin', () => {
    // Vector: sigstore/sigstore-js packages/verify/src/__tests__/tlog/checkpoint.test.ts @ 1663b3e653814bb282ca3840be9c1cd24c71ae0a
    // Prepare
    const key = Buffer.from(
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwrkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==',
      'base64',
    );
    const note =
      'rekor.sigstore.dev - 2605736670972794746\n21428036\nrxnoKyFZlJ7/R6bMh/d3lcqwKqAy5CL1LcNBJP17kgQ=\nTimestamp: 1688058656037355364\n\n— rekor.sigstore.dev wNI9ajBFAiEAuDk7uu5Ae8Own/MjhSZNuVzbLuYH2jBMxbSA0WaNDNACIDV4reKpYiOpkwtvazCClnpUuduF2o/th2xR3gRZAUU4\n';
    // Act
    const checkpoint = openCheckpoint(note, {
      publicKey: key,
      keyName: 'rekor.sigstore.dev',
      origin: 'rekor.sigstore.dev - 2605736670972794746',
    });
    // Assess
    expect(checkpoint.size).toBe(21428036);
    expect(Buffer.from(checkpoint.rootHash).toString('base64')).toBe(
      'rxnoKyFZlJ7/R6bMh/d3lcqwKqAy5CL1LcNBJP17kgQ=',
    );
    expect(checkpoint.extensions).toEqual(['Timestamp: 1688058656037355364']);
  });
});

describe('checkpoints: one after the other', () => {
  const tree = MerkleTree.fromLeaves(
    Array.from({ length: 20 }, (_, i) => Buffer.from(`leaf ${i}`)),
  );
  const at = (size: number, iso: string, origin = ORIGIN) =>
    newCheckpoint(origin, size, tree.root(size), new Date(iso));

  it('accepts a later checkpoint that extends the tree, with its consistency proof', () => {
    // Prepare
    const previous = at(7, '2026-03-14T09:00:00.000Z');
    const next = at(20, '2026-03-14T10:00:00.000Z');
    // Act / Assess
    expect(() =>
      verifyCheckpointSuccession(previous, next, tree.consistencyProof(7, 20)),
    ).not.toThrow();
    expect(() =>
      verifyCheckpointSuccession(previous, at(7, '2026-03-14T10:00:00.000Z'), []),
    ).not.toThrow();
  });

  it('refuses a shrunk or rewritten tree, an earlier date, another origin', () => {
    // Prepare
    const previous = at(7, '2026-03-14T09:00:00.000Z');
    const rewritten = { ...at(20, '2026-03-14T10:00:00.000Z'), rootHash: ROOT };
    // Act / Assess
    expect(() =>
      verifyCheckpointSuccession(previous, at(5, '2026-03-14T10:00:00.000Z'), []),
    ).toThrow(ProofError);
    expect(() =>
      verifyCheckpointSuccession(previous, rewritten, tree.consistencyProof(7, 20)),
    ).toThrow(ProofError);
    expect(() =>
      verifyCheckpointSuccession(
        previous,
        at(20, '2026-03-14T08:00:00.000Z'),
        tree.consistencyProof(7, 20),
      ),
    ).toThrow(ProofError);
    expect(() =>
      verifyCheckpointSuccession(
        previous,
        at(20, '2026-03-14T10:00:00.000Z', 'other.example/log'),
        tree.consistencyProof(7, 20),
      ),
    ).toThrow(ProofError);
  });
});
