import { TZDateMini } from '@date-fns/tz';
import type { RetentionPolicy } from './policy';
import { isLive, type DocumentItem } from './retention-items';

/** What falls due in one ISO week, for one tenant and category. */
export interface ForecastRow {
  readonly tenant: string;
  readonly category: string;
  /** ISO 8601 week of the due date on the tenant's calendar, e.g. `2026-W14`. */
  readonly week: string;
  /** Documents that expire that week (scheduled, not restricted). */
  expiring: number;
  /** Restricted documents whose legal duty ends that week. */
  restricted: number;
  /** Documents under a legal hold that would be due that week: they expire only after release. */
  held: number;
}

/** The ISO 8601 week (`YYYY-Www`) of `instant` on the calendar of `timeZone`. */
export function isoWeekOf(instant: Date, timeZone: string): string {
  const local = new TZDateMini(instant.getTime(), timeZone);
  // The week belongs to the year of its Thursday (ISO 8601), computed on a plain UTC calendar.
  const day = Date.UTC(local.getFullYear(), local.getMonth(), local.getDate());
  const weekday = (new Date(day).getUTCDay() + 6) % 7;
  const thursday = new Date(day + (3 - weekday) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/**
 * Adds the documents of `items` that fall due before `until` to the forecast, per tenant,
 * category and ISO week of the tenant's calendar. A document already due (not swept yet) counts
 * in the week of `now`. Documents waiting for their anchor have no due date and are not counted.
 */
export function forecastExpiries(
  items: Iterable<DocumentItem>,
  policy: RetentionPolicy,
  now: Date,
  until: Date,
  rows: Map<string, ForecastRow> = new Map(),
): Map<string, ForecastRow> {
  for (const item of items) {
    if (!isLive(item.state) || item.dueAt === undefined) continue;
    const due = new Date(item.dueAt);
    if (due.getTime() > until.getTime()) continue;
    const { timeZone } = policy.forTenant(item.tenant);
    const week = isoWeekOf(due.getTime() < now.getTime() ? now : due, timeZone);
    const key = `${item.tenant}\u0000${week}\u0000${item.category}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        tenant: item.tenant,
        category: item.category,
        week,
        expiring: 0,
        restricted: 0,
        held: 0,
      };
      rows.set(key, row);
    }
    if (item.held) row.held += 1;
    else if (item.restricted) row.restricted += 1;
    else row.expiring += 1;
  }
  return rows;
}

/** The forecast rows in reading order: tenant, week, category. */
export function forecastRows(rows: Map<string, ForecastRow>): ForecastRow[] {
  return [...rows.values()].sort(
    (a, b) =>
      a.tenant.localeCompare(b.tenant) ||
      a.week.localeCompare(b.week) ||
      a.category.localeCompare(b.category),
  );
}
