/** The document vault: envelope encryption under a per-tenant / per-subject key hierarchy. */
export * from './document-vault';
export * from './vault-ref';
export type { DeletionResult } from './version-deletion';
export * from './errors';
export { KeyHierarchy, DEFAULT_KEY_CACHE_TTL_MS } from './key-hierarchy';
export type { KeyHierarchyOptions, SubjectKey } from './key-hierarchy';
