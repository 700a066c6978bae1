import { createHash, createPublicKey, KeyObject, verify } from 'node:crypto';
import { NoteSignature, NoteVerifier } from './signed-note';
import { MalformedError, SignatureError } from './errors';

/*
 * Signature type 0x02 of the C2SP signed-note specification: ECDSA signatures as the
 * transparency-dev witness implements them, curve NIST P-256 (the specification's SHOULD), and "the
 * key ID for these signatures is the truncated SHA-256 hash of the DER encoded public key in SPKI
 * format". As transparency-dev/witness (internal/note NewECDSAVerifier) and Sigstore Rekor
 * implement it, the signature is ASN.1 DER ECDSA over SHA-256 of the note text, and the key ID is
 * SHA-256(SPKI DER)[:4], without the key name and type byte of the generic recommendation. It is
 * what AWS KMS gives: ECC_NIST_P256 keys, ECDSA_SHA_256, DER signatures. This is the only type
 * the specification assigns to ECDSA, so it is the one used; Ed25519 (0x01) is not available in
 * KMS.
 */

/** The signature type identifier byte of ECDSA notes in C2SP signed-note. */
export const ECDSA_SIGNATURE_TYPE = 0x02;

/**
 * Signs a note text with an ECDSA P-256 key whose private part stays elsewhere (KMS `Sign` with
 * `ECDSA_SHA_256` and `MessageType: RAW`, which hashes the message with SHA-256 and returns DER).
 */
export interface NoteSigner {
  /** The public half of the signing key (from KMS `GetPublicKey`: SPKI DER). */
  readonly publicKey: KeyObject;
  /** How `sign` encodes its signature: ASN.1 DER, or raw `r || s` (IEEE P1363). */
  readonly signatureEncoding: 'der' | 'ieee-p1363';
  /** ECDSA P-256 signature over SHA-256 of `message`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * An ECDSA P-256 public key from a `KeyObject`, PEM text or SPKI DER bytes; refuses other keys
 * (only P-256 is used: the specification's SHOULD, and the curve of the KMS key).
 */
export function ecdsaPublicKey(key: KeyObject | string | Uint8Array): KeyObject {
  let publicKey: KeyObject;
  try {
    if (key instanceof KeyObject) publicKey = key;
    else if (typeof key === 'string') publicKey = createPublicKey(key);
    else publicKey = createPublicKey({ key: Buffer.from(key), format: 'der', type: 'spki' });
  } catch (error) {
    throw new MalformedError('public key', 'not a PEM or SPKI DER public key', { cause: error });
  }
  if (publicKey.type !== 'public')
    throw new MalformedError('public key', `a public key is needed, got a ${publicKey.type} key`);
  if (
    publicKey.asymmetricKeyType !== 'ec' ||
    publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  )
    throw new MalformedError('public key', 'not an ECDSA NIST P-256 key');
  return publicKey;
}

/** The 4-byte key ID of an ECDSA note key: SHA-256(SPKI DER)[:4]. */
export function ecdsaKeyId(publicKey: KeyObject): Uint8Array {
  const spki = ecdsaPublicKey(publicKey).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(spki).digest().subarray(0, 4);
}

/**
 * The key in the verifier-key text form of Go's sumdb `note` package as
 * transparency-dev/witness reads ECDSA keys: `<name>+<key ID, 8 hex>+<base64(0x02 || SPKI DER)>`,
 * for auditors who check notes with that tooling.
 */
export function ecdsaVerifierKey(keyName: string, publicKey: KeyObject): string {
  const spki = ecdsaPublicKey(publicKey).export({ format: 'der', type: 'spki' });
  const typed = Buffer.concat([Buffer.from([ECDSA_SIGNATURE_TYPE]), spki]);
  return `${keyName}+${Buffer.from(ecdsaKeyId(publicKey)).toString('hex')}+${typed.toString('base64')}`;
}

/** A {@link NoteVerifier} for an ECDSA P-256 key known under `keyName`. */
export function ecdsaNoteVerifier(
  keyName: string,
  publicKey: KeyObject | string | Uint8Array,
): NoteVerifier {
  const key = ecdsaPublicKey(publicKey);
  return {
    keyName,
    keyId: ecdsaKeyId(key),
    verify: (text, signature) => verify('sha256', text, { key, dsaEncoding: 'der' }, signature),
  };
}

/**
 * Signs a note text as key `keyName` and returns the signature line's content. The signature is
 * brought to DER and checked against the signer's public key before it is returned, so a signer
 * configured with the wrong key or encoding fails here rather than in an auditor's hands.
 */
export async function signNoteText(
  text: string,
  keyName: string,
  signer: NoteSigner,
): Promise<NoteSignature> {
  const message = Buffer.from(text, 'utf8');
  const raw = await signer.sign(message);
  const signature = signer.signatureEncoding === 'der' ? Buffer.from(raw) : derFromIeeeP1363(raw);
  const verifier = ecdsaNoteVerifier(keyName, signer.publicKey);
  if (!verifier.verify(message, signature))
    throw new SignatureError('the signer returned a signature its public key does not verify');
  return { keyName, keyId: verifier.keyId, signature };
}

/** ASN.1 DER `SEQUENCE { r INTEGER, s INTEGER }` of a raw P-256 `r || s` signature (64 bytes). */
export function derFromIeeeP1363(raw: Uint8Array): Buffer {
  if (raw.byteLength !== 64) throw new MalformedError('signature', 'raw P-256 ECDSA has 64 bytes');
  const integer = (bytes: Uint8Array): Buffer => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
    const body = Buffer.from(bytes.subarray(start));
    const padded = body[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : body;
    return Buffer.concat([Buffer.from([0x02, padded.length]), padded]);
  };
  const content = Buffer.concat([integer(raw.subarray(0, 32)), integer(raw.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, content.length]), content]);
}
