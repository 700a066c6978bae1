/**
 * Transparency log for the processing log: RFC 9162 Merkle tree and proofs, an incremental tree
 * state for the checkpointer, C2SP signed-note checkpoints with ECDSA P-256, record leaves and
 * their order, and offline proof bundles. Pure: no AWS call; signing goes through `NoteSigner`.
 */
export * from './checkpoint';
export * from './errors';
export * from './hash';
export * from './leaf';
export * from './merkle-tree';
export * from './note-ecdsa';
export * from './proof-bundle';
export * from './proof-paths';
export * from './proof-verify';
export * from './signed-note';
export * from './tree-frontier';
