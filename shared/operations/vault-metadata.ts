/**
 * What a stored document says of itself in its vault object's metadata, so that its retention
 * item can be rebuilt from the object alone when the item is lost (see `VaultReconciler`). Only
 * pseudonyms, dates, a category and digests: no personal data (object metadata is stored in
 * clear).
 */
export interface VaultMetadata {
  /** Category id (also the key class). */
  readonly category: string;
  /** Document pseudonym (what the log shows, and the retention item's key). */
  readonly document?: string;
  /** The anchor date its due date is counted from (ISO). */
  readonly documentDate?: string;
  /** Its upload event's time (ISO). */
  readonly eventTime?: string;
  /** Digest of its upload event's key, and of its payload (the item's receipt). */
  readonly eventKey?: string;
  readonly payloadHash?: string;
}

const NAMES = {
  category: 'category',
  document: 'document',
  documentDate: 'document-date',
  eventTime: 'event-time',
  eventKey: 'event-key',
  payloadHash: 'payload-hash',
} as const satisfies Record<keyof VaultMetadata, string>;

/** The object metadata of a document (names `[a-z-]`, as the vault requires). */
export function vaultMetadataOf(facts: VaultMetadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, name] of Object.entries(NAMES) as [keyof VaultMetadata, string][]) {
    const value = facts[field];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The facts an object's metadata holds; undefined without a category (not a document's). */
export function vaultMetadataFrom(
  metadata: Readonly<Record<string, string>>,
): VaultMetadata | undefined {
  const category = metadata[NAMES.category];
  if (category === undefined) return undefined;
  const read = (field: Exclude<keyof VaultMetadata, 'category'>) =>
    metadata[NAMES[field]] !== undefined ? { [field]: metadata[NAMES[field]] } : {};
  return {
    category,
    ...read('document'),
    ...read('documentDate'),
    ...read('eventTime'),
    ...read('eventKey'),
    ...read('payloadHash'),
  };
}
