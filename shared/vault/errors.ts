import { PermanentError, TransientError } from '../errors';

/**
 * The subject key that protected a document was destroyed (crypto-shredding): the ciphertext may
 * still exist, but nobody can read it any more. Permanent: a retry can never succeed.
 */
export class DocumentShreddedError extends PermanentError {
  constructor(options?: { cause?: unknown }) {
    super('document-shredded', 'The subject key of this document was destroyed', options);
  }
}

/**
 * A vault object failed its integrity check: malformed header, authentication tag mismatch
 * (tampered ciphertext, or ciphertext moved to another tenant, subject, class or document id),
 * or plaintext digest mismatch. Permanent.
 */
export class DocumentIntegrityError extends PermanentError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('document-integrity', `Vault document failed its integrity check: ${detail}`, options);
  }
}

/** No current version of the document exists in the vault. Permanent. */
export class DocumentNotFoundError extends PermanentError {
  constructor(options?: { cause?: unknown }) {
    super('document-not-found', 'No such document in the vault', options);
  }
}

/** A tenant, subject pseudonym, key class, document id or metadata key of the wrong shape. Permanent. */
export class InvalidVaultReferenceError extends PermanentError {
  constructor(field: string) {
    super('invalid-vault-reference', `Invalid vault reference: bad ${field}`);
  }
}

/**
 * A key store item that cannot be used: unwrapping failed or the item is malformed. Permanent:
 * an operator must look at it (it is never replaced automatically, which would silently lose
 * every document under it).
 */
export class KeyStoreIntegrityError extends PermanentError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('key-store-integrity', `Key store item unusable: ${detail}`, options);
  }
}

/** Some objects of a physical deletion were not deleted (DeleteObjects reported errors). Retried. */
export class PartialDeletionError extends TransientError {
  /** How many object versions S3 refused to delete. */
  readonly failed: number;

  constructor(failed: number, firstCode: string | undefined) {
    super(
      'vault-delete-partial',
      `DeleteObjects failed for ${failed} object version(s)${firstCode ? ` (first: ${firstCode})` : ''}`,
    );
    this.failed = failed;
  }
}

/** A document's content differs from the SHA-256 its producer declared. Permanent: nothing stored. */
export class DocumentDigestMismatchError extends PermanentError {
  constructor() {
    super('sha256-mismatch', 'Document content does not match its declared sha256');
  }
}

/**
 * A document's stream ended at another size than its source declared (a connection cut, an
 * object replaced while read). Transient: nothing stored, a retry reads it again.
 */
export class DocumentStreamSizeError extends TransientError {
  constructor() {
    super('document-size-changed', 'Document stream ended at another size than declared');
  }
}
