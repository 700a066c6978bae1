import fc from 'fast-check';
import { createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';
import {
  derFromIeeeP1363,
  ecdsaKeyId,
  ecdsaNoteVerifier,
  ecdsaPublicKey,
  ecdsaVerifierKey,
  NoteSigner,
  signNoteText,
} from '../../shared/transparency/note-ecdsa';
import {
  formatSignedNote,
  MAX_NOTE_SIGNATURES,
  parseSignedNote,
  SignedNote,
  verifyNote,
} from '../../shared/transparency/signed-note';
import { MalformedError, SignatureError } from '../../shared/transparency/errors';

/*
 * Real ECDSA P-256 notes (C2SP signed-note type 0x02) signed by Sigstore's Rekor logs, with
 * their public keys, from sigstore/sigstore-js packages/verify/src/__tests__/tlog/checkpoint.test.ts
 * @ 1663b3e653814bb282ca3840be9c1cd24c71ae0a: a production checkpoint (with Rekor's
 * "Timestamp:" extension line) and a staging one without extension.
 */
const REKOR = {
  key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwrkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==',
  note: 'rekor.sigstore.dev - 2605736670972794746\n21428036\nrxnoKyFZlJ7/R6bMh/d3lcqwKqAy5CL1LcNBJP17kgQ=\nTimestamp: 1688058656037355364\n\n— rekor.sigstore.dev wNI9ajBFAiEAuDk7uu5Ae8Own/MjhSZNuVzbLuYH2jBMxbSA0WaNDNACIDV4reKpYiOpkwtvazCClnpUuduF2o/th2xR3gRZAUU4\n',
};
const REKOR_STAGING = {
  key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDODRU688UYGuy54mNUlaEBiQdTE9nYLr0lg6RXowI/QV/RE1azBn4Eg5/2uTOMbhB1/gfcHzijzFi9Tk+g1Prg==',
  note: 'rekor.sigstage.dev - 8050909264565447525\n23003647\nWBwYpazawqUG5iErvDptvf7mpt84WIpmm+zfshgHhJs=\n\n— rekor.sigstage.dev 0y8wozBGAiEA2kq45YWfHHiDCJHH2+m9l+TVMtPBpOVu+VtVaj62V2MCIQDflbM2N7M/JTIV/spr9qYUI3gf4bO0qqSeiEWJ5xLgPA==\n',
};
/*
 * The example note of C2SP signed-note itself (C2SP/C2SP signed-note.md @
 * 055287621bf3cd13ff4394418a3e8efc2d5e8ed7): its text holds an empty line, so only the last blank
 * line separates text from signatures.
 */
const C2SP_EXAMPLE =
  'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n';

const der = (base64: string): Uint8Array => Buffer.from(base64, 'base64');

/** A P-256 key pair and a signer over it, returning DER or raw signatures. */
function testSigner(encoding: NoteSigner['signatureEncoding'] = 'der') {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer: NoteSigner = {
    publicKey,
    signatureEncoding: encoding,
    sign: async (message) => sign('sha256', message, { key: privateKey, dsaEncoding: encoding }),
  };
  return { publicKey, privateKey, signer };
}

describe('signed notes (C2SP signed-note): parsing', () => {
  it('splits the specification example at the last blank line', () => {
    // Act
    const note = parseSignedNote(C2SP_EXAMPLE);
    // Assess
    expect(note.text).toBe(
      'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n',
    );
    expect(note.signatures).toHaveLength(1);
    expect(note.signatures[0]!.keyName).toBe('quasimodo.example/salvatore');
    expect(note.signatures[0]!.signature).toHaveLength(64); // Ed25519
    expect(formatSignedNote(note)).toBe(C2SP_EXAMPLE);
  });

  it('round-trips any well-formed note', () => {
    const line = fc.string({
      unit: fc.constantFrom('a', 'é', ' ', '—', '+', '1', '€'),
      maxLength: 20,
    });
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 1, maxLength: 5 }),
        fc.array(
          fc.tuple(
            fc.constantFrom('a.example/log', 'witness-2', 'é'),
            fc.uint8Array({ minLength: 5, maxLength: 80 }),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        (lines, sigs) => {
          // Prepare
          const note: SignedNote = {
            text: lines.map((l) => `${l}\n`).join(''),
            signatures: sigs.map(([keyName, bytes]) => ({
              keyName,
              keyId: bytes.subarray(0, 4),
              signature: bytes.subarray(4),
            })),
          };
          // Act
          const parsed = parseSignedNote(Buffer.from(formatSignedNote(note), 'utf8'));
          // Assess
          expect(parsed.text).toBe(note.text);
          expect(
            parsed.signatures.map((s) => [
              s.keyName,
              Buffer.from(s.keyId),
              Buffer.from(s.signature),
            ]),
          ).toEqual(
            note.signatures.map((s) => [s.keyName, Buffer.from(s.keyId), Buffer.from(s.signature)]),
          );
        },
      ),
    );
  });

  it.each([
    ['no separator', 'rekor.sigstore.dev - 2605736670972794746'],
    ['no signature', 'a\n1\nB\n\n'],
    ['a signature that is not base64 of 5+ bytes', 'a\n\n— rekor.sigstore.dev foo\n'],
    ['a 4-byte signature', 'a\n\n— k AAAAAA==\n'],
    ['non-canonical base64', 'a\n\n— k AAAAAAB=\n'],
    ['no final newline', 'a\n\n— k AAAAAAA='],
    ['a carriage return', 'a\r\n\n— k AAAAAAA=\n'],
    ['a tab', 'a\tb\n\n— k AAAAAAA=\n'],
    ['a "+" in the key name', 'a\n\n— k+1 AAAAAAA=\n'],
    ['a space in the key name', 'a\n\n— k 1 AAAAAAA=\n'],
    ['a no-break space in the key name', 'a\n\n— k\u00a01 AAAAAAA=\n'],
    ['a hyphen instead of the em dash', 'a\n\n- k AAAAAAA=\n'],
    ['a lone surrogate', 'a\ud800\n\n— k AAAAAAA=\n'],
    ['too many signatures', `a\n\n${'— k AAAAAAA=\n'.repeat(MAX_NOTE_SIGNATURES + 1)}`],
  ])('refuses a note with %s', (_, note) => {
    // Act / Assess
    expect(() => parseSignedNote(note)).toThrow(MalformedError);
  });

  it('refuses bytes that are not UTF-8', () => {
    // Act / Assess
    expect(() => parseSignedNote(Buffer.from([0x61, 0xff, 0x0a, 0x0a]))).toThrow(MalformedError);
  });
});

describe('ECDSA note signatures (type 0x02, as transparency-dev/witness and Rekor)', () => {
  const rekorKey = createPublicKey({
    key: Buffer.from(REKOR.key, 'base64'),
    format: 'der',
    type: 'spki',
  });

  it('derives the key ID as SHA-256(SPKI DER)[:4], as in Rekor notes', () => {
    // Act / Assess: Rekor's signature lines start with wNI9ag (c0d23d6a), the head of its log ID
    expect(Buffer.from(ecdsaKeyId(rekorKey)).toString('hex')).toBe('c0d23d6a');
    expect(Buffer.from(parseSignedNote(REKOR.note).signatures[0]!.keyId).toString('hex')).toBe(
      'c0d23d6a',
    );
  });

  it('writes the verifier key of transparency-dev/witness (name+id+base64(0x02 || SPKI))', () => {
    // Act
    const vkey = ecdsaVerifierKey('rekor.sigstore.dev', rekorKey);
    // Assess: the key bytes of the example in witness internal/note NewECDSAVerifier
    expect(vkey).toBe(
      'rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=',
    );
  });

  it.each([
    ['Rekor production', REKOR, 'rekor.sigstore.dev'],
    ['Rekor staging', REKOR_STAGING, 'rekor.sigstage.dev'],
  ])('verifies a real %s note', (_, vector, keyName) => {
    // Act
    const text = verifyNote(
      parseSignedNote(vector.note),
      ecdsaNoteVerifier(keyName, der(vector.key)),
    );
    // Assess
    expect(vector.note.startsWith(text)).toBe(true);
  });

  it('rejects a Rekor note once its text, key ID or signature is altered, or under another key', () => {
    // Prepare
    const verifier = ecdsaNoteVerifier('rekor.sigstore.dev', der(REKOR.key));
    const altered = [
      REKOR.note.replace('21428036', '21428037'),
      REKOR.note.replace('wNI9aj', 'xNI9aj'),
      REKOR.note.replace(/AUU4\n$/, 'AUU5\n'),
      REKOR.note.replace(/wNI9aj\S+/, 'wNI9ajBFAiEAuDk7uu5Ae8OwnA=='),
    ];
    const truncated = REKOR.note.replace(/wNI9aj\S+/, 'wNI9ajBFAiEAuDk7uu5Ae8Own');
    // Act / Assess
    for (const note of altered)
      expect(() => verifyNote(parseSignedNote(note), verifier)).toThrow(SignatureError);
    expect(() => parseSignedNote(truncated)).toThrow(MalformedError);
    expect(() =>
      verifyNote(
        parseSignedNote(REKOR.note),
        ecdsaNoteVerifier('rekor.sigstore.dev', der(REKOR_STAGING.key)),
      ),
    ).toThrow(SignatureError);
    expect(() =>
      verifyNote(parseSignedNote(REKOR.note), ecdsaNoteVerifier('other.example', der(REKOR.key))),
    ).toThrow(SignatureError);
  });

  it('signs with a DER or a raw (r || s) signer, and the note verifies', async () => {
    for (const encoding of ['der', 'ieee-p1363'] as const) {
      // Prepare
      const { publicKey, signer } = testSigner(encoding);
      const text = 'example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
      // Act
      const signature = await signNoteText(text, 'example.com/log', signer);
      const note = formatSignedNote({ text, signatures: [signature] });
      // Assess
      expect(
        verifyNote(parseSignedNote(note), ecdsaNoteVerifier('example.com/log', publicKey)),
      ).toBe(text);
    }
  });

  it('ignores signatures of unknown keys, but rejects a note where the known key fails once', async () => {
    // Prepare
    const ours = testSigner();
    const witness = testSigner();
    const text = 'example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
    const good = await signNoteText(text, 'example.com/log', ours.signer);
    const cosigned = await signNoteText(text, 'witness.example', witness.signer);
    const forged = {
      ...good,
      signature: (await signNoteText('other\n', 'example.com/log', ours.signer)).signature,
    };
    const verifier = ecdsaNoteVerifier('example.com/log', ours.publicKey);
    // Act / Assess
    expect(verifyNote({ text, signatures: [cosigned, good] }, verifier)).toBe(text);
    expect(() => verifyNote({ text, signatures: [cosigned] }, verifier)).toThrow(SignatureError);
    expect(() => verifyNote({ text, signatures: [good, forged] }, verifier)).toThrow(
      SignatureError,
    );
  });

  it('refuses a signer whose signature its declared key or encoding does not verify', async () => {
    // Prepare
    const a = testSigner('ieee-p1363');
    const b = testSigner();
    const mislabelled: NoteSigner = { ...a.signer, signatureEncoding: 'der' };
    const wrongKey: NoteSigner = { ...a.signer, publicKey: b.publicKey };
    // Act / Assess
    await expect(signNoteText('x\n', 'k', mislabelled)).rejects.toThrow(SignatureError);
    await expect(signNoteText('x\n', 'k', wrongKey)).rejects.toThrow(SignatureError);
  });

  it('converts raw P-256 signatures to DER, minimal integers with a sign byte when needed', () => {
    // Prepare: r = 1, s = 0x80 followed by zeros
    const raw = Buffer.concat([
      Buffer.alloc(31),
      Buffer.from([1]),
      Buffer.from([0x80]),
      Buffer.alloc(31),
    ]);
    // Act / Assess
    expect(derFromIeeeP1363(raw).toString('hex')).toBe(`3026020101022100${'80'.padEnd(64, '0')}`);
    const { privateKey, publicKey } = testSigner();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (message) => {
        const signature = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        expect(
          verify(
            'sha256',
            message,
            { key: publicKey, dsaEncoding: 'der' },
            derFromIeeeP1363(signature),
          ),
        ).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('accepts only ECDSA P-256 public keys, from PEM, SPKI DER or a KeyObject', () => {
    // Prepare
    const { publicKey } = testSigner();
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    const ed25519 = generateKeyPairSync('ed25519').publicKey;
    // Act / Assess
    for (const key of [publicKey, pem, der(REKOR.key)])
      expect(ecdsaPublicKey(key)).toBeInstanceOf(KeyObject);
    for (const key of [p384, ed25519, 'not a key', testSigner().privateKey])
      expect(() => ecdsaPublicKey(key)).toThrow(MalformedError);
  });
});
