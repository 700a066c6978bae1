import type { DocumentVault } from '../vault/document-vault';
import type { Pseudonymizer } from '../pseudonym';
import type { RetentionPolicy } from '../retention/policy';
import type { RetentionStore } from '../retention/retention-store';

/** What every privacy operation works with: injected so tests use the local endpoint and a clock. */
export interface OperationContext {
  readonly policy: RetentionPolicy;
  readonly store: RetentionStore;
  readonly vault: DocumentVault;
  readonly pseudonyms: Pseudonymizer;
  /** The clock (tests move it). */
  readonly now: () => Date;
}
