import type { LogEntry } from '../processing-log/writer';
import type { RetentionCategory } from '../retention/policy';
import type { DocumentItem } from '../retention/retention-items';

/**
 * Reason marker of GDPR Art. 9 data in the processing log: sensitive data is kept under its own
 * key, and every record about it says so.
 */
export const SENSITIVE_MARKER = 'sensitive-art9:own-key';

/** Joins reason parts into the log's machine-readable `reason` (`a;b`), adding the Art. 9 marker. */
export function reasonOf(
  category: RetentionCategory | undefined,
  ...parts: Array<string | undefined>
): string | null {
  const all = [...parts, category?.sensitive ? SENSITIVE_MARKER : undefined].filter(
    (p): p is string => Boolean(p),
  );
  return all.length > 0 ? all.join(';') : null;
}

/** The log fields describing one document: category, its legal basis and purpose, pseudonyms. */
export function documentFields(
  item: DocumentItem,
  category: RetentionCategory | undefined,
): Pick<
  LogEntry,
  'tenant' | 'subject' | 'category' | 'document' | 'legalBasis' | 'purpose' | 'retainUntil'
> {
  return {
    tenant: item.tenant,
    subject: item.subject,
    category: item.category,
    document: item.document,
    legalBasis: category?.legalBasis ?? null,
    purpose: category?.purpose ?? null,
    retainUntil: item.dueAt ?? null,
  };
}

/** `Art. 17(3)(b) legal obligation`: the legal basis logged for data kept after an erasure request. */
export function keptBasis(category: RetentionCategory): string {
  return `Art. ${category.restrictionGround}; ${category.legalBasis}`;
}
