import { fromBase64, toBase64 } from './hash';
import { MalformedError, SignatureError } from './errors';

/*
 * C2SP signed note (see docs/transparency-format.md): a UTF-8 text ending in a newline, a blank line, then
 * one or more lines `— <key name> <base64(4-byte key ID || signature)>`. Parsing is strict:
 * anything the specification does not allow is refused, never repaired.
 */

/** One signature line of a note. */
export interface NoteSignature {
  /** Key name: non-empty, no Unicode space, no `+`. */
  readonly keyName: string;
  /** The 4-byte key ID (big-endian uint32 in the specification). */
  readonly keyId: Uint8Array;
  /** The signature bytes that follow the key ID. */
  readonly signature: Uint8Array;
}

/** A note: its text (final newline included) and its signatures. */
export interface SignedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A key a verifier trusts: its name, its ID and how to check one of its signatures. */
export interface NoteVerifier {
  readonly keyName: string;
  readonly keyId: Uint8Array;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** Most signatures a note may carry (the specification requires accepting at least 16). */
export const MAX_NOTE_SIGNATURES = 64;
/** Largest note accepted, in bytes. */
export const MAX_NOTE_BYTES = 1 << 20;

const DASH = '\u2014 ';

/** Whether text holds an ASCII control character (below U+0020) other than newline. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return true;
  }
  return false;
}

/** Whether a key name is allowed: non-empty, no Unicode space (Go's unicode.IsSpace), no `+`. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s\u0085+]/u.test(name) && !hasControlCharacter(name);
}

/** The note as text: its text, a blank line, one line per signature. */
export function formatSignedNote(note: SignedNote): string {
  if (!note.text.endsWith('\n')) throw new MalformedError('note', 'text must end with a newline');
  if (note.signatures.length === 0) throw new MalformedError('note', 'no signature');
  const lines = note.signatures.map((s) => {
    if (!isValidKeyName(s.keyName)) throw new MalformedError('note', `bad key name "${s.keyName}"`);
    if (s.keyId.byteLength !== 4) throw new MalformedError('note', 'a key ID has 4 bytes');
    return `${DASH}${s.keyName} ${toBase64(Buffer.concat([s.keyId, s.signature]))}\n`;
  });
  const formatted = `${note.text}\n${lines.join('')}`;
  parseSignedNote(formatted); // what we write, we can read back
  return formatted;
}

/**
 * Parses a signed note strictly: valid UTF-8, no control character but newline, text and
 * signatures separated by the last blank line, every signature line well-formed, at least one and
 * at most {@link MAX_NOTE_SIGNATURES}. Does not verify anything (see {@link verifyNote}).
 */
export function parseSignedNote(input: string | Uint8Array): SignedNote {
  const note = typeof input === 'string' ? input : decodeUtf8(input);
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES)
    throw new MalformedError('note', `larger than ${MAX_NOTE_BYTES} bytes`);
  if (Buffer.from(note, 'utf8').toString('utf8') !== note)
    throw new MalformedError('note', 'not valid UTF-8');
  if (hasControlCharacter(note))
    throw new MalformedError('note', 'contains a control character other than newline');
  if (!note.endsWith('\n')) throw new MalformedError('note', 'does not end with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new MalformedError('note', 'no blank line before the signatures');
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length === 1 && lines[0] === '') throw new MalformedError('note', 'no signature');
  if (lines.length > MAX_NOTE_SIGNATURES)
    throw new MalformedError('note', `more than ${MAX_NOTE_SIGNATURES} signatures`);
  return { text: note.slice(0, split + 1), signatures: lines.map(parseSignatureLine) };
}

function parseSignatureLine(line: string, i: number): NoteSignature {
  const what = `note signature line ${i + 1}`;
  if (!line.startsWith(DASH)) throw new MalformedError(what, 'does not start with "— "');
  const parts = line.slice(DASH.length).split(' ');
  if (parts.length !== 2) throw new MalformedError(what, 'is not "— <key name> <signature>"');
  const [keyName, encoded] = parts as [string, string];
  if (!isValidKeyName(keyName)) throw new MalformedError(what, `bad key name "${keyName}"`);
  const bytes = fromBase64(encoded, what);
  if (bytes.length < 5) throw new MalformedError(what, 'shorter than a key ID and a signature');
  return { keyName, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new MalformedError('note', 'not valid UTF-8', { cause: error });
  }
}

/**
 * Checks a note's signatures against one trusted key, as the specification requires: lines whose
 * key name and key ID are not both the trusted key's are ignored; every line of the trusted key
 * must verify (one that fails rejects the whole note); at least one must be there. Returns the
 * note's text, which may be read only after this.
 */
export function verifyNote(note: SignedNote, verifier: NoteVerifier): string {
  const text = Buffer.from(note.text, 'utf8');
  const known = note.signatures.filter(
    (s) => s.keyName === verifier.keyName && Buffer.from(s.keyId).equals(verifier.keyId),
  );
  if (known.length === 0)
    throw new SignatureError(
      `no signature by key "${verifier.keyName}" (ID ${Buffer.from(verifier.keyId).toString('hex')})`,
    );
  if (!known.every((s) => verifier.verify(text, s.signature)))
    throw new SignatureError(`a signature by key "${verifier.keyName}" does not verify`);
  return note.text;
}
