import type { DocumentVault, VaultDocumentRef } from '../vault/document-vault';
import type { Pseudonymizer } from '../pseudonym';
import type { LogEntry } from '../processing-log/writer';
import type { RetentionPolicy, RetentionCategory } from '../retention/policy';
import {
  subjectKey,
  type DocumentItem,
  type RequestItem,
  type RetentionStore,
} from '../retention/retention-store';
import { addPeriod, ONE_MONTH } from '../retention/schedule';

/** What every privacy operation works with: injected so tests use the local endpoint and a clock. */
export interface OperationContext {
  readonly policy: RetentionPolicy;
  readonly store: RetentionStore;
  readonly vault: DocumentVault;
  readonly pseudonyms: Pseudonymizer;
  /** The clock (tests move it). */
  readonly now: () => Date;
}

/** The vault reference of a document item. */
export function vaultRefOf(item: DocumentItem): VaultDocumentRef {
  return {
    tenant: item.tenant,
    subject: item.subject,
    keyClass: item.keyClass,
    documentId: item.documentId,
  };
}

/** Reason marker of GDPR Art. 9 data in the processing log (P14). */
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

/** ISO 8601 (UTC, milliseconds) of a timestamp string: comparable as text. */
export function isoOf(timestamp: string): string {
  return new Date(timestamp).toISOString();
}

/** The later of two ISO instants (either may be missing). */
export function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

/** A request of a data subject (erasure, access) as it arrives. */
interface SubjectRequestEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly tenantid: string;
  readonly data: {
    readonly subjectId: string;
    readonly requestId: string;
    readonly receivedAt: string;
  };
}

/**
 * Records a subject's request at receipt, with its deadline one month later (GDPR Art. 12(3)),
 * and returns the fields every log entry of the request carries. Keeps the first record on a
 * replay.
 */
export async function openSubjectRequest(
  ctx: OperationContext,
  event: SubjectRequestEvent,
  requestKind: RequestItem['requestKind'],
) {
  const tenant = event.tenantid;
  const { requestId } = event.data;
  const subject = await ctx.pseudonyms.subject(tenant, event.data.subjectId);
  const pk = subjectKey(tenant, subject);
  const receivedAt = isoOf(event.data.receivedAt);
  const deadline = addPeriod(new Date(receivedAt), ONE_MONTH).toISOString();
  const common = {
    tenant,
    subject,
    requestId,
    deadline,
    eventId: event.id,
    eventSource: event.source,
    eventType: event.type,
  };
  const request = await ctx.store.openRequest(pk, {
    tenant,
    subject,
    requestKind,
    requestId,
    receivedAt,
    deadline,
  });
  return { tenant, subject, pk, requestId, deadline, common, request };
}
