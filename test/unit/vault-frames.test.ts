import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  FrameDecryptor,
  FrameEncryptor,
  FRAMED_HEADER_BYTES,
  readFramedHeader,
} from '../../shared/vault/document-frames';
import { DocumentIntegrityError } from '../../shared/vault/errors';

const FRAME = 64;
const TAG = 16;
const key = randomBytes(32);
const keyId = randomBytes(16);
const context = {
  tenant: 'acme-sas',
  subject: 'a'.repeat(64),
  keyClass: 'contract',
  documentId: 'd1',
};

/** Collects a stream into one buffer. */
async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Encrypts `plaintext` fed in chunks of `chunk` bytes. */
async function encrypt(plaintext: Buffer, frame = FRAME, chunk = 7): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < plaintext.length; i += chunk) parts.push(plaintext.subarray(i, i + chunk));
  const encryptor = new FrameEncryptor(key, keyId, context, frame);
  const [, out] = await Promise.all([
    pipeline(Readable.from(parts), encryptor),
    collect(encryptor),
  ]);
  return out;
}

/** Decrypts a framed object fed in chunks of `chunk` bytes. */
async function decrypt(object: Buffer, ctx = context, chunk = 13): Promise<Buffer> {
  const header = readFramedHeader(object);
  const parts: Buffer[] = [];
  for (let i = FRAMED_HEADER_BYTES; i < object.length; i += chunk)
    parts.push(object.subarray(i, i + chunk));
  const decryptor = new FrameDecryptor(key, header, ctx);
  const [, out] = await Promise.all([
    pipeline(Readable.from(parts), decryptor),
    collect(decryptor),
  ]);
  return out;
}

/** The byte range of frame `n` in an object of frames of `frame` plaintext bytes. */
const frameAt = (n: number, frame = FRAME) => {
  const start = FRAMED_HEADER_BYTES + n * (frame + TAG);
  return [start, start + frame + TAG] as const;
};

describe('framed document format', () => {
  it.each([0, 1, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME, 5 * FRAME + 17])(
    'round-trips %i bytes, one final frame shorter than a frame',
    async (size) => {
      // Prepare
      const plaintext = randomBytes(size);
      // Act
      const object = await encrypt(plaintext);
      // Assess
      const frames = Math.floor(size / FRAME) + 1;
      expect(object.length).toBe(FRAMED_HEADER_BYTES + size + frames * TAG);
      expect((await decrypt(object)).equals(plaintext)).toBe(true);
    },
  );

  it('never repeats a key and IV: two encryptions of the same content differ', async () => {
    const plaintext = randomBytes(3 * FRAME);
    const [a, b] = await Promise.all([encrypt(plaintext), encrypt(plaintext)]);
    expect(a.subarray(FRAMED_HEADER_BYTES).equals(b.subarray(FRAMED_HEADER_BYTES))).toBe(false);
  });

  it('refuses a flipped byte in any frame, naming the frame', async () => {
    const object = await encrypt(randomBytes(3 * FRAME + 5));
    for (const n of [0, 1, 3]) {
      const tampered = Buffer.from(object);
      tampered[frameAt(n)[0] + 2] ^= 0x01;
      await expect(decrypt(tampered)).rejects.toThrow(
        `integrity check: frame ${n}${n === 3 ? ' (final)' : ''} failed authentication`,
      );
    }
  });

  it('refuses a truncated final frame, and a document cut at a frame boundary', async () => {
    const object = await encrypt(randomBytes(2 * FRAME + 30));
    await expect(decrypt(object.subarray(0, object.length - 1))).rejects.toThrow(
      DocumentIntegrityError,
    );
    await expect(decrypt(object.subarray(0, frameAt(2)[0]))).rejects.toThrow(
      /missing or truncated final frame/,
    );
    await expect(decrypt(object.subarray(0, frameAt(1)[0] + 5))).rejects.toThrow(
      /missing or truncated final frame \(frame 1\)/,
    );
    await expect(decrypt(object.subarray(0, frameAt(1)[0] + 20))).rejects.toThrow(
      /frame 1 \(final\) failed authentication/,
    );
  });

  it('refuses swapped frames and a frame repeated in place of another', async () => {
    const object = await encrypt(randomBytes(3 * FRAME + 1));
    const [a0, a1] = frameAt(0);
    const [b0, b1] = frameAt(1);
    const swapped = Buffer.concat([
      object.subarray(0, a0),
      object.subarray(b0, b1),
      object.subarray(a0, a1),
      object.subarray(b1),
    ]);
    await expect(decrypt(swapped)).rejects.toThrow(/frame 0 failed authentication/);
    const repeated = Buffer.concat([
      object.subarray(0, b0),
      object.subarray(a0, a1),
      object.subarray(b1),
    ]);
    await expect(decrypt(repeated)).rejects.toThrow(/frame 1 failed authentication/);
  });

  it('refuses a frame of another object under the same key, bytes appended, and a final flag moved', async () => {
    const plaintext = randomBytes(2 * FRAME + 3);
    const [one, other] = await Promise.all([encrypt(plaintext), encrypt(plaintext)]);
    const [a0, a1] = frameAt(0);
    const spliced = Buffer.concat([one.subarray(0, a0), other.subarray(a0, a1), one.subarray(a1)]);
    await expect(decrypt(spliced)).rejects.toThrow(/frame 0 failed authentication/);
    await expect(decrypt(Buffer.concat([one, Buffer.from('x')]))).rejects.toThrow(
      DocumentIntegrityError,
    );
    // Dropping the final frame leaves a full frame last: it was not encrypted as final.
    const [f0] = frameAt(2);
    const noFinal = one.subarray(0, f0);
    const lastFull = Buffer.concat([
      noFinal.subarray(0, frameAt(1)[0]),
      noFinal.subarray(frameAt(1)[0], f0 - 1),
    ]);
    await expect(decrypt(lastFull)).rejects.toThrow(/frame 1 \(final\) failed authentication/);
  });

  it('refuses a changed header (frame size, key id, nonce) and another document context', async () => {
    const object = await encrypt(randomBytes(FRAME + 9));
    for (const at of [5, 21, FRAMED_HEADER_BYTES - 1]) {
      const tampered = Buffer.from(object);
      tampered[at] ^= 0x01;
      await expect(decrypt(tampered)).rejects.toThrow(DocumentIntegrityError);
    }
    await expect(decrypt(object, { ...context, documentId: 'd2' })).rejects.toThrow(
      /frame 0 failed authentication/,
    );
  });

  it('refuses a header that is not framed or declares a frame size out of bounds', async () => {
    const object = await encrypt(Buffer.from('x'));
    expect(() => readFramedHeader(object.subarray(0, 20))).toThrow(/truncated header/);
    expect(() => readFramedHeader(Buffer.from('%PDF-1.7'.padEnd(80)))).toThrow(
      /not a vault document/,
    );
    const huge = Buffer.from(object);
    huge.writeUInt32BE(64 * 1024 * 1024, 21);
    expect(() => readFramedHeader(huge)).toThrow(/frame size out of bounds/);
  });
});
