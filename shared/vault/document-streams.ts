import type { CompleteMultipartUploadCommandOutput } from '@aws-sdk/client-s3';
import type { Upload } from '@aws-sdk/lib-storage';
import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';

/** A plaintext to store as it streams, with what its producer declared before it is read. */
export interface DocumentSource {
  readonly body: Readable;
  /** Its bytes (an upload's Content-Length): checked when it ends, stored as metadata. */
  readonly size: number;
  /** Its SHA-256 (lowercase hex), when known before: checked when it ends, stored as metadata. */
  readonly sha256?: string;
}

/** A document opened for reading: its plaintext as a stream, and its size when recorded. */
export interface OpenedDocument {
  readonly body: Readable;
  readonly size?: number;
}

/** What a stream that ended differs in from what was declared. */
export type Mismatch = 'size' | 'digest';

/**
 * Passes a plaintext through, counting and hashing it; when it ends, fails with `refusal` if its
 * size or digest differs from the one declared (each checked only when declared).
 */
export class PlaintextMeter extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private digest?: string;

  constructor(
    private readonly size: number | undefined,
    private readonly sha256: string | undefined,
    private readonly refusal: (mismatch: Mismatch) => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    if (this.size !== undefined && this.bytes !== this.size) return done(this.refusal('size'));
    if (this.sha256 !== undefined && this.digest !== this.sha256)
      return done(this.refusal('digest'));
    done();
  }

  /** The plaintext's SHA-256 (hex), once it has ended. */
  sha256Hex(): string {
    if (this.digest === undefined) throw new Error('the plaintext has not ended');
    return this.digest;
  }
}

/**
 * Reads the first `bytes` of `body` (fewer if it ends first) and returns them, with the rest of
 * the body as a stream. Destroying the rest destroys the body.
 */
export async function readHead(
  body: Readable,
  bytes: number,
): Promise<{ head: Buffer; rest: Readable }> {
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value);
    length += next.value.length;
  }
  const read = Buffer.concat(chunks);
  const head = read.subarray(0, Math.min(bytes, read.length));
  const extra = read.subarray(head.length);
  async function* remaining(): AsyncGenerator<Buffer> {
    try {
      if (extra.length > 0) yield extra;
      for (let next = await iterator.next(); !next.done; next = await iterator.next())
        yield next.value;
    } finally {
      await iterator.return?.();
    }
  }
  return { head, rest: Readable.from(remaining(), { objectMode: false }) };
}

/** Reads a whole stream into memory (a whole-object document, which can only be read whole). */
export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Runs a multipart `upload` of `body` while `flow` feeds it, and returns the upload's answer.
 * Whichever fails first is the error: a failed source aborts the upload (nothing is stored), a
 * failed upload stops the source (destroyed, so it never waits on a reader that has gone).
 */
export async function streamInto(
  flow: Promise<void>,
  body: Readable,
  upload: Upload,
): Promise<CompleteMultipartUploadCommandOutput> {
  let first: { error: unknown } | undefined;
  const stored = upload.done().catch((error: unknown) => {
    first ??= { error };
    body.destroy(error as Error);
    throw error;
  });
  const flowing = flow.catch((error: unknown) => {
    first ??= { error };
    throw error;
  });
  const [, put] = await Promise.allSettled([flowing, stored]);
  if (first) throw first.error;
  return (put as PromiseFulfilledResult<CompleteMultipartUploadCommandOutput>).value;
}
