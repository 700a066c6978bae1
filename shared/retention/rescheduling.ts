import type { RetentionPolicy } from './policy';
import { isLive, type DocumentItem } from './retention-items';
import { addPeriod, type Period } from './schedule';
import type { TenantCategory } from './tenant-policy';

/**
 * How long a document that a policy change makes due at once is kept before its deletion, unless
 * the operator asks for deletion at once: time for the controller to see the change (and revert
 * it, or export) before anything goes.
 */
export const RESCHEDULE_GRACE: Period = { years: 0, months: 0, days: 7 };

/**
 * What a policy change does to one stored document:
 * - `unchanged`: its due date is the one the current policy gives (or it is due either way);
 * - `earlier`, `later`: a new due date in the future;
 * - `at-once`: the current policy makes it due already;
 * - `held`: under a legal hold: its due date changes, it stays held (nothing expires during a hold);
 * - `waiting`: its clock has not started (account not closed): the closure will use the policy;
 * - `skipped`: its category is no longer in the policy, or an erasure waits for a hold's release.
 */
export type RescheduleKind =
  'unchanged' | 'earlier' | 'later' | 'at-once' | 'held' | 'waiting' | 'skipped';

/** The decision for one document. */
export interface RescheduleDecision {
  readonly kind: RescheduleKind;
  /** The category as it applies to the document's tenant (absent for `skipped`). */
  readonly category?: TenantCategory;
  /** Due date stored now (ISO), when it has one. */
  readonly from?: string;
  /** Due date to store (ISO): present only when the document is to be rescheduled. */
  readonly to?: string;
  /** The due date the policy gives (ISO), before the grace of {@link RESCHEDULE_GRACE}. */
  readonly policyDue?: string;
  /** True when `to` is the grace date, not the (past) policy date. */
  readonly deferred?: boolean;
}

/** How a run decides. */
export interface RescheduleOptions {
  readonly now: Date;
  /** Make what is due under the new policy due at once (else it gets {@link RESCHEDULE_GRACE}). */
  readonly atOnce: boolean;
  /** @default RESCHEDULE_GRACE */
  readonly grace?: Period;
}

/**
 * Decides what the current policy means for a stored document (see {@link RescheduleKind}).
 * The due date is the one enforcement computes (`TenantPolicy.dueDate`): the tenant's period from
 * its anchor on the tenant's calendar, the legal duty for restricted data. A document the new
 * policy makes due already becomes due at once only with `atOnce`; otherwise it is due at
 * now + grace, and left as it is when it is due before that anyway. `closedAt` is the subject's
 * account closure, for categories counted from it.
 */
export function decideReschedule(
  item: DocumentItem,
  policy: RetentionPolicy,
  closedAt: string | undefined,
  options: RescheduleOptions,
): RescheduleDecision | undefined {
  if (!isLive(item.state)) return undefined;
  const tenantPolicy = policy.forTenant(item.tenant);
  const category = tenantPolicy.find(item.category);
  if (!category || item.erasurePending)
    return { kind: 'skipped', ...(category ? { category } : {}) };
  const due = tenantPolicy.dueDate(category, {
    documentDate: item.documentDate,
    closedAt,
    restricted: item.restricted,
  });
  const from = item.dueAt;
  if (!due) return { kind: 'waiting', category, ...(from ? { from } : {}) };
  const policyDue = due.toISOString();
  const base = { category, policyDue, ...(from ? { from } : {}) };
  const now = options.now.getTime();
  const stored = from === undefined ? Infinity : Date.parse(from);
  if (stored === due.getTime() || (stored <= now && due.getTime() <= now))
    return { kind: 'unchanged', ...base };
  let to = policyDue;
  let deferred = false;
  if (due.getTime() <= now && !options.atOnce) {
    const floor = addPeriod(options.now, options.grace ?? RESCHEDULE_GRACE);
    if (stored <= floor.getTime()) return { kind: 'unchanged', ...base };
    to = floor.toISOString();
    deferred = true;
  }
  const kind: RescheduleKind = item.held
    ? 'held'
    : due.getTime() <= now
      ? 'at-once'
      : due.getTime() < stored
        ? 'earlier'
        : 'later';
  return { kind, ...base, to, ...(deferred ? { deferred } : {}) };
}
