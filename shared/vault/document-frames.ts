import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { DocumentContext } from './envelope';
import { DocumentIntegrityError } from './errors';

/** The first bytes of every vault document, whatever its format. */
export const DOCUMENT_MAGIC = Buffer.from('PODV', 'ascii');
/** The framed format: a header, then frames each authenticated on its own. */
export const FRAMED_FORMAT = 2;
/** Plaintext bytes of every frame but the last (the last holds fewer, possibly none). */
export const DEFAULT_FRAME_BYTES = 64 * 1024;
/** Frame sizes a header may declare: a reader never buffers more than one frame. */
export const MIN_FRAME_BYTES = 16;
export const MAX_FRAME_BYTES = 1024 * 1024;

const KEY_ID_BYTES = 16;
const NONCE_BYTES = 32;
const TAG_BYTES = 16;
const IV_BYTES = 12;
const INFO = 'privacy-ops/document/v2';
/** Header: magic (4) | format (1) | subject key id (16) | frame bytes (4, BE) | nonce (32). */
export const FRAMED_HEADER_BYTES = DOCUMENT_MAGIC.length + 1 + KEY_ID_BYTES + 4 + NONCE_BYTES;
/** Frames a document may have: the sequence number is 32 bits. */
const MAX_FRAMES = 2 ** 32 - 1;

/** A framed document's header, as read from the start of its object. */
export interface FramedHeader {
  /** The header's bytes, as stored (authenticated by every frame). */
  readonly bytes: Buffer;
  readonly keyId: Buffer;
  readonly frameBytes: number;
}

/** The key and IV base of one object, and what binds every frame to its header and context. */
interface ObjectKey {
  readonly key: Buffer;
  readonly ivBase: Buffer;
  /** SHA-256 of the header and the document context: the first part of every frame's AAD. */
  readonly binding: Buffer;
}

/**
 * Derives the object's own AES-256 key and IV base from the subject key with HKDF-SHA256, salted
 * with the object's random nonce and bound to its header and context (as the AWS Encryption SDK
 * derives a message's data key from its message id): no two objects share a key, so the frame
 * IVs, which only count, never repeat under one key.
 */
function objectKeyOf(subjectKey: Uint8Array, header: Buffer, context: DocumentContext): ObjectKey {
  const text = [INFO, context.tenant, context.subject, context.keyClass, context.documentId];
  const binding = createHash('sha256')
    .update(header)
    .update(Buffer.from(text.join('|'), 'utf8'))
    .digest();
  const nonce = header.subarray(FRAMED_HEADER_BYTES - NONCE_BYTES);
  const okm = Buffer.from(
    hkdfSync('sha256', subjectKey, nonce, Buffer.concat([Buffer.from(INFO), binding]), 44),
  );
  return { key: okm.subarray(0, 32), ivBase: okm.subarray(32), binding };
}

/** Frame `seq`'s IV: the IV base XOR the sequence number (as TLS 1.3 makes record nonces). */
function ivOf(base: Buffer, seq: number): Buffer {
  const iv = Buffer.from(base);
  iv.writeUInt32BE((iv.readUInt32BE(IV_BYTES - 4) ^ seq) >>> 0, IV_BYTES - 4);
  return iv;
}

/** Frame `seq`'s AAD: header-and-context binding, sequence number, final flag. */
function aadOf(binding: Buffer, seq: number, final: boolean): Buffer {
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(seq, 0);
  tail[4] = final ? 1 : 0;
  return Buffer.concat([binding, tail]);
}

/**
 * Encrypts a document as it streams: writes the header, then one frame per `frameBytes` of
 * plaintext (ciphertext then its 16-byte GCM tag), the last frame flagged final and shorter than
 * `frameBytes` (empty when the plaintext fills its frames). Holds at most one frame in memory.
 */
export class FrameEncryptor extends Transform {
  private readonly frameBytes: number;
  private readonly objectKey: ObjectKey;
  private readonly header: Buffer;
  private readonly pending = new PendingBytes();
  private seq = 0;
  private started = false;

  constructor(
    subjectKey: Uint8Array,
    keyId: Uint8Array,
    context: DocumentContext,
    frameBytes = DEFAULT_FRAME_BYTES,
  ) {
    super();
    if (subjectKey.length !== 32) throw new RangeError('subject key must be 32 bytes');
    if (keyId.length !== KEY_ID_BYTES) throw new RangeError(`key id must be ${KEY_ID_BYTES} bytes`);
    if (
      !Number.isInteger(frameBytes) ||
      frameBytes < MIN_FRAME_BYTES ||
      frameBytes > MAX_FRAME_BYTES
    )
      throw new RangeError(`frame size must be ${MIN_FRAME_BYTES}-${MAX_FRAME_BYTES} bytes`);
    this.frameBytes = frameBytes;
    const size = Buffer.alloc(4);
    size.writeUInt32BE(frameBytes);
    this.header = Buffer.concat([
      DOCUMENT_MAGIC,
      Buffer.of(FRAMED_FORMAT),
      keyId,
      size,
      randomBytes(NONCE_BYTES),
    ]);
    this.objectKey = objectKeyOf(subjectKey, this.header, context);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.start();
    this.pending.push(chunk);
    try {
      while (this.pending.length >= this.frameBytes)
        this.pushFrame(this.pending.take(this.frameBytes), false);
    } catch (error) {
      return done(error as Error);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.start();
    try {
      this.pushFrame(this.pending.take(this.pending.length), true);
    } catch (error) {
      return done(error as Error);
    }
    done();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.push(this.header);
  }

  private pushFrame(plaintext: Buffer, final: boolean): void {
    if (this.seq > MAX_FRAMES) throw new RangeError('document has too many frames');
    const { key, ivBase, binding } = this.objectKey;
    const cipher = createCipheriv('aes-256-gcm', key, ivOf(ivBase, this.seq));
    cipher.setAAD(aadOf(binding, this.seq, final));
    this.push(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
    this.seq += 1;
  }
}

/**
 * Reads a framed header from the first bytes of an object; refuses (DocumentIntegrityError) a
 * header too short, of another format, or declaring a frame size out of bounds.
 */
export function readFramedHeader(start: Buffer): FramedHeader {
  if (start.length < FRAMED_HEADER_BYTES) throw new DocumentIntegrityError('truncated header');
  if (!start.subarray(0, DOCUMENT_MAGIC.length).equals(DOCUMENT_MAGIC))
    throw new DocumentIntegrityError('not a vault document');
  if (start[DOCUMENT_MAGIC.length] !== FRAMED_FORMAT)
    throw new DocumentIntegrityError('not a framed document');
  const bytes = Buffer.from(start.subarray(0, FRAMED_HEADER_BYTES));
  const keyIdAt = DOCUMENT_MAGIC.length + 1;
  const frameBytes = bytes.readUInt32BE(keyIdAt + KEY_ID_BYTES);
  if (frameBytes < MIN_FRAME_BYTES || frameBytes > MAX_FRAME_BYTES)
    throw new DocumentIntegrityError('frame size out of bounds');
  return { bytes, keyId: bytes.subarray(keyIdAt, keyIdAt + KEY_ID_BYTES), frameBytes };
}

/**
 * Decrypts the frames that follow a framed header, releasing each frame's plaintext only once its
 * tag is verified. Refuses (DocumentIntegrityError, naming the frame) a modified frame, frames
 * reordered or swapped (the sequence number is in each IV and AAD), a missing or truncated final
 * frame, and bytes after it (the final flag is authenticated). Holds at most one frame in memory.
 */
export class FrameDecryptor extends Transform {
  private readonly objectKey: ObjectKey;
  private readonly frameBytes: number;
  private readonly pending = new PendingBytes();
  private seq = 0;

  constructor(subjectKey: Uint8Array, header: FramedHeader, context: DocumentContext) {
    super();
    this.objectKey = objectKeyOf(subjectKey, header.bytes, context);
    this.frameBytes = header.frameBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    const full = this.frameBytes + TAG_BYTES;
    try {
      // A frame of full size is never the final one: the final frame is shorter.
      while (this.pending.length >= full) this.openFrame(this.pending.take(full), false);
    } catch (error) {
      return done(error as Error);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.pending.length < TAG_BYTES)
        throw new DocumentIntegrityError(`missing or truncated final frame (frame ${this.seq})`);
      this.openFrame(this.pending.take(this.pending.length), true);
    } catch (error) {
      return done(error as Error);
    }
    done();
  }

  private openFrame(frame: Buffer, final: boolean): void {
    const { key, ivBase, binding } = this.objectKey;
    const decipher = createDecipheriv('aes-256-gcm', key, ivOf(ivBase, this.seq));
    decipher.setAAD(aadOf(binding, this.seq, final));
    decipher.setAuthTag(frame.subarray(frame.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([
        decipher.update(frame.subarray(0, frame.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (error) {
      throw new DocumentIntegrityError(
        `frame ${this.seq}${final ? ' (final)' : ''} failed authentication`,
        { cause: error },
      );
    }
    this.seq += 1;
    if (plaintext.length > 0) this.push(plaintext);
  }
}

/** The bytes a frame transform has received and not yet framed: at most one frame and a chunk. */
class PendingBytes {
  private chunks: Buffer[] = [];
  private bytes = 0;

  /** How many bytes are pending. */
  get length(): number {
    return this.bytes;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** Takes the first `count` pending bytes. */
  take(count: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const rest = all.subarray(count);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.bytes = rest.length;
    return all.subarray(0, count);
  }
}
