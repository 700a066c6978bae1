import type { SubjectRequestContinuedV1 } from '../../events/internal';
import { PermanentError } from '../errors';
import type { DocumentItem } from '../retention/retention-items';
import type { RetentionStore } from '../retention/retention-store';

/** Documents of one page worked on at once (bounded: the endpoints' and the function's limits). */
export const PAGE_CONCURRENCY = 16;

/** What an operation reads of its invocation's budget (see `ContinuationQueue`). */
export interface PageBudget {
  /** Most documents one invocation takes. */
  readonly pageDocuments: number;
  /** Whether the invocation may start more work. */
  hasTime(): boolean;
}

/** No page budget: everything in one invocation (code that runs a request outside its function). */
export const UNBOUNDED: PageBudget = { pageDocuments: 1_000_000, hasTime: () => true };

/** Which page of a request an event is: the first (the request itself) or a continuation. */
export type RequestPage<R, P> =
  | { readonly request: R; readonly page: 1; readonly progress?: undefined }
  | { readonly request: R; readonly page: number; readonly progress: P };

/**
 * The page an event stands for: a request event is its first page; a continuation names its
 * page, its request and its progress. A continuation of another operation is refused
 * (`continuation-of-another-operation`): it was sent to the wrong queue.
 */
export function pageOf<R extends { type: string }, O extends string, P>(
  event: R | SubjectRequestContinuedV1,
  operations: readonly O[],
): RequestPage<R, P> {
  if (!('data' in event && 'operation' in (event.data as object)))
    return { request: event as R, page: 1 };
  const { data } = event as SubjectRequestContinuedV1;
  if (!operations.includes(data.operation as O))
    throw new PermanentError(
      'continuation-of-another-operation',
      `a ${data.operation} continuation is not for this operation`,
    );
  return {
    request: data.request as unknown as R,
    page: data.page,
    progress: data.progress as P,
  };
}

/** The documents one page took, and where the next page starts. */
export interface TakenPage<T> {
  readonly results: T[];
  /** Sort key of the last item taken (the next page starts after it). */
  readonly after: string | undefined;
  /** True when items may follow (the listing went on, or time ran out first). */
  readonly more: boolean;
}

/**
 * Takes one page of a subject's document items after `after`, at most the budget's
 * `pageDocuments`, and runs `work` on them `concurrency` at a time, in key order,
 * starting no new group once the invocation's time runs short. Returns the results in key order
 * and the key of the last item taken.
 */
export async function takePage<T>(
  store: RetentionStore,
  budget: PageBudget,
  subject: { tenant: string; subject: string; after?: string },
  work: (items: DocumentItem[]) => Promise<T[]>,
  concurrency = PAGE_CONCURRENCY,
): Promise<TakenPage<T>> {
  const { items, more } = await store.documentPage(
    subject.tenant,
    subject.subject,
    subject.after,
    budget.pageDocuments,
  );
  const results: T[] = [];
  let taken = 0;
  while (taken < items.length && (taken === 0 || budget.hasTime())) {
    const group = items.slice(taken, taken + concurrency);
    results.push(...(await work(group)));
    taken += group.length;
  }
  return {
    results,
    after: taken > 0 ? items[taken - 1].sk : subject.after,
    more: more || taken < items.length,
  };
}

/** `items` in consecutive groups of at most `size`, in order. */
export function inGroups<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}
