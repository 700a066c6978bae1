import { InvalidVaultReferenceError } from './errors';

/** Which document, of whom, under which subject key. */
export interface VaultDocumentRef {
  /** Tenant id (`[a-z0-9][a-z0-9-]{0,62}`). */
  readonly tenant: string;
  /** The subject's pseudonym (64 lowercase hex), never the clear id. */
  readonly subject: string;
  /**
   * Which subject key protects it: the category id, so that erasable and kept categories, and
   * sensitive ones, have separate keys (`[A-Za-z0-9][A-Za-z0-9._-]{0,127}`).
   */
  readonly keyClass: string;
  /** `[A-Za-z0-9._-]{1,128}` (not `.` or `..`). */
  readonly documentId: string;
}

const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SUBJECT = /^[0-9a-f]{64}$/;
const KEY_CLASS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const DOCUMENT_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Refuses a tenant id of the wrong shape (InvalidVaultReferenceError, permanent). */
export function checkTenant(tenant: string): void {
  if (!TENANT.test(tenant)) throw new InvalidVaultReferenceError('tenant');
}

/** Refuses a subject that is not a pseudonym (64 lowercase hex). */
export function checkSubject(subject: string): void {
  if (!SUBJECT.test(subject)) throw new InvalidVaultReferenceError('subject pseudonym');
}

/** Refuses a key class of the wrong shape. */
export function checkKeyClass(keyClass: string): void {
  if (!KEY_CLASS.test(keyClass)) throw new InvalidVaultReferenceError('key class');
}

/** Refuses a document id of the wrong shape, `.` and `..` included. */
export function checkDocumentId(documentId: string): void {
  if (!DOCUMENT_ID.test(documentId) || documentId === '.' || documentId === '..')
    throw new InvalidVaultReferenceError('document id');
}

/** Refuses a reference of the wrong shape (InvalidVaultReferenceError, permanent). */
export function validateVaultRef(ref: VaultDocumentRef): void {
  checkTenant(ref.tenant);
  checkSubject(ref.subject);
  checkKeyClass(ref.keyClass);
  checkDocumentId(ref.documentId);
}

/** The S3 key of a document: `${tenant}/${subject}/${keyClass}/${documentId}`. */
export function vaultKeyOf(ref: VaultDocumentRef): string {
  validateVaultRef(ref);
  return `${ref.tenant}/${ref.subject}/${ref.keyClass}/${ref.documentId}`;
}

/** The reference a vault key stands for; undefined for a key the vault did not make. */
export function parseVaultKey(vaultKey: string): VaultDocumentRef | undefined {
  const parts = vaultKey.split('/');
  if (parts.length !== 4) return undefined;
  const [tenant, subject, keyClass, documentId] = parts;
  const ref = { tenant, subject, keyClass, documentId };
  try {
    validateVaultRef(ref);
  } catch {
    return undefined;
  }
  return ref;
}
