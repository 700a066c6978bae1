import { PermanentError } from '../errors';

/**
 * Something a transparency-log check refused: a malformed note, a signature that does not verify,
 * a proof that does not lead to the signed root, an unusable tree state. Permanent: the same input
 * fails the same way every time, so the message says what is wrong rather than asking for a retry.
 */
export abstract class TransparencyError extends PermanentError {}

/** A signed note, checkpoint body, proof bundle or encoded value that does not follow its format. */
export class MalformedError extends TransparencyError {
  constructor(what: string, detail: string, options?: { cause?: unknown }) {
    super('transparency-malformed', `Malformed ${what}: ${detail}`, options);
  }
}

/** No signature of the trusted key verifies on a note (missing, or one that fails). */
export class SignatureError extends TransparencyError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('transparency-signature', `Note signature rejected: ${detail}`, options);
  }
}

/** An inclusion or consistency proof that does not prove what it claims. */
export class ProofError extends TransparencyError {
  constructor(detail: string) {
    super('transparency-proof', `Merkle proof rejected: ${detail}`);
  }
}

/** A tree size, leaf index or stored tree state that cannot be used (out of range, inconsistent). */
export class TreeStateError extends TransparencyError {
  constructor(detail: string) {
    super('transparency-tree-state', `Unusable Merkle tree state: ${detail}`);
  }
}
