import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DocumentIntegrityError, KeyStoreIntegrityError } from './errors';

/** Bytes of an AES-256 key. */
export const KEY_BYTES = 32;
/** Bytes of a subject key id (random, stored with the key and in each document header). */
export const KEY_ID_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DOCUMENT_MAGIC = Buffer.from('PODV', 'ascii');
const DOCUMENT_FORMAT = 1;
const WRAPPED_KEY_FORMAT = 1;

/**
 * The whole-object format (1), which the vault wrote before the framed format (2, see
 * `document-frames.ts`): `PODV` | format 1 | subject key id (16) | IV (12) | tag (16) |
 * ciphertext, one AES-256-GCM message bound to its context. Only read now: objects stored in it
 * stay readable (read whole: its one tag covers the whole object).
 */
/** Offset of the IV in a document object: magic (4), format (1), subject key id (16). */
const DOCUMENT_IV_OFFSET = DOCUMENT_MAGIC.length + 1 + KEY_ID_BYTES;
/** Bytes before the ciphertext in a document object: the above, IV (12), tag (16). */
export const DOCUMENT_HEADER_BYTES = DOCUMENT_IV_OFFSET + IV_BYTES + TAG_BYTES;
/** Bytes of a wrapped subject key: format (1), IV (12), tag (16), key (32). */
export const WRAPPED_KEY_BYTES = 1 + IV_BYTES + TAG_BYTES + KEY_BYTES;

/** What a document's ciphertext is bound to (authenticated, not encrypted). */
export interface DocumentContext {
  readonly tenant: string;
  readonly subject: string;
  readonly keyClass: string;
  readonly documentId: string;
}

/** What a wrapped subject key is bound to (authenticated, not encrypted). */
export interface SubjectKeyContext {
  readonly tenant: string;
  readonly subject: string;
  readonly keyClass: string;
  /** The subject key's id (hex). */
  readonly keyId: string;
}

/**
 * The additional authenticated data of a document: its header up to the IV, then
 * `privacy-ops/document/v1|tenant|subject|keyClass|documentId`. The fields cannot contain `|`
 * (validated by the vault), so the encoding is unambiguous.
 */
function documentAad(headerPrefix: Buffer, c: DocumentContext): Buffer {
  const text = ['privacy-ops/document/v1', c.tenant, c.subject, c.keyClass, c.documentId].join('|');
  return Buffer.concat([headerPrefix, Buffer.from(text, 'utf8')]);
}

function subjectKeyAad(c: SubjectKeyContext): Buffer {
  const text = ['privacy-ops/subject-key/v1', c.tenant, c.subject, c.keyClass, c.keyId].join('|');
  return Buffer.from(text, 'utf8');
}

function checkKey(key: Uint8Array, what: string): void {
  if (key.length !== KEY_BYTES) throw new RangeError(`${what} must be ${KEY_BYTES} bytes`);
}

/** The subject key id a document object was encrypted under; refuses a malformed header. */
export function documentKeyId(object: Uint8Array): Buffer {
  const buffer = Buffer.from(object.buffer, object.byteOffset, object.byteLength);
  if (
    buffer.length < DOCUMENT_HEADER_BYTES ||
    !buffer.subarray(0, DOCUMENT_MAGIC.length).equals(DOCUMENT_MAGIC)
  )
    throw new DocumentIntegrityError('not a vault document');
  if (buffer[DOCUMENT_MAGIC.length] !== DOCUMENT_FORMAT)
    throw new DocumentIntegrityError('unknown document format');
  return Buffer.from(buffer.subarray(DOCUMENT_MAGIC.length + 1, DOCUMENT_IV_OFFSET));
}

/**
 * Decrypts a whole-object (format 1) document. Refuses (DocumentIntegrityError)
 * a malformed header, a modified ciphertext, header or tag, and a context that differs from the
 * one it was encrypted with.
 */
export function decryptDocument(
  key: Uint8Array,
  context: DocumentContext,
  object: Uint8Array,
): Buffer {
  checkKey(key, 'subject key');
  documentKeyId(object);
  const buffer = Buffer.from(object.buffer, object.byteOffset, object.byteLength);
  const prefix = buffer.subarray(0, DOCUMENT_IV_OFFSET);
  const iv = buffer.subarray(DOCUMENT_IV_OFFSET, DOCUMENT_IV_OFFSET + IV_BYTES);
  const tag = buffer.subarray(DOCUMENT_IV_OFFSET + IV_BYTES, DOCUMENT_HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(documentAad(prefix, context));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([
      decipher.update(buffer.subarray(DOCUMENT_HEADER_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new DocumentIntegrityError('authentication failed', { cause: error });
  }
}

/**
 * Wraps a subject key locally with AES-256-GCM under the tenant wrapping key, bound to
 * tenant, subject, key class and key id. Layout: format 1 | IV (12) | tag (16) | wrapped key (32).
 */
export function wrapSubjectKey(
  wrappingKey: Uint8Array,
  subjectKey: Uint8Array,
  context: SubjectKeyContext,
): Buffer {
  checkKey(wrappingKey, 'wrapping key');
  checkKey(subjectKey, 'subject key');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', wrappingKey, iv);
  cipher.setAAD(subjectKeyAad(context));
  const wrapped = Buffer.concat([cipher.update(subjectKey), cipher.final()]);
  return Buffer.concat([Buffer.of(WRAPPED_KEY_FORMAT), iv, cipher.getAuthTag(), wrapped]);
}

/** Unwraps a key made by {@link wrapSubjectKey}; refuses (KeyStoreIntegrityError) anything else. */
export function unwrapSubjectKey(
  wrappingKey: Uint8Array,
  wrapped: Uint8Array,
  context: SubjectKeyContext,
): Buffer {
  checkKey(wrappingKey, 'wrapping key');
  const buffer = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  if (buffer.length !== WRAPPED_KEY_BYTES || buffer[0] !== WRAPPED_KEY_FORMAT)
    throw new KeyStoreIntegrityError('malformed wrapped subject key');
  const iv = buffer.subarray(1, 1 + IV_BYTES);
  const tag = buffer.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', wrappingKey, iv);
  decipher.setAAD(subjectKeyAad(context));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([
      decipher.update(buffer.subarray(1 + IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new KeyStoreIntegrityError('subject key unwrapping failed', { cause: error });
  }
}
