import type { RetentionCategory } from './policy';

/** A calendar period (ISO 8601 `PnYnMnD`). */
export interface Period {
  readonly years: number;
  readonly months: number;
  readonly days: number;
}

/** One month: the GDPR Art. 12(3) deadline to answer a request. */
export const ONE_MONTH: Period = { years: 0, months: 1, days: 0 };

/** Parses an ISO 8601 period of years, months and days (`P10Y`, `P1Y6M`, `P30D`). */
export function parsePeriod(text: string): Period {
  const m = /^P(?=\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$/.exec(text);
  if (!m) throw new Error(`not an ISO 8601 period of years, months and days: ${text}`);
  return { years: Number(m[1] ?? 0), months: Number(m[2] ?? 0), days: Number(m[3] ?? 0) };
}

/**
 * Adds a calendar period in UTC. Years and months first, clamping the day to the end of a shorter
 * month (31 January + 1 month = 28/29 February), then days.
 */
export function addPeriod(from: Date, period: Period): Date {
  const y = from.getUTCFullYear() + period.years;
  const m0 = from.getUTCMonth() + period.months;
  const year = y + Math.floor(m0 / 12);
  const month = ((m0 % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(from.getUTCDate(), lastDay);
  const result = new Date(
    Date.UTC(
      year,
      month,
      day,
      from.getUTCHours(),
      from.getUTCMinutes(),
      from.getUTCSeconds(),
      from.getUTCMilliseconds(),
    ),
  );
  result.setUTCDate(result.getUTCDate() + period.days);
  return result;
}

/**
 * The end of the fiscal year that contains `date`, for a fiscal year ending on `monthDay`
 * (`MM-DD`): the first instant after that day (00:00 UTC the next day).
 */
export function endOfFiscalYear(date: Date, monthDay: string): Date {
  const [mm, dd] = monthDay.split('-').map(Number);
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  let year = date.getUTCFullYear();
  if (day > Date.UTC(year, mm - 1, dd)) year += 1;
  return new Date(Date.UTC(year, mm - 1, dd + 1));
}

/** What a document's retention clock may start from. */
export interface AnchorFacts {
  /** The document's date (`documentDate`), else the upload event's time. */
  readonly documentDate: Date;
  /** The subject's account closure / end of relationship, when known. */
  readonly closedAt?: Date;
  /** The tenant's fiscal year end, `MM-DD`. */
  readonly fiscalYearEnd: string;
}

/**
 * When a document of `category` falls due for deletion, or undefined while its anchor (account
 * closure) is not known yet: anchor + duration, or closure + grace period for categories that
 * keep nothing after closure.
 */
export function dueDate(category: RetentionCategory, facts: AnchorFacts): Date | undefined {
  switch (category.anchor) {
    case 'document-date':
      return addPeriod(facts.documentDate, category.duration!);
    case 'fiscal-year-end':
      return addPeriod(
        endOfFiscalYear(facts.documentDate, facts.fiscalYearEnd),
        category.duration!,
      );
    case 'relationship-end':
      if (!facts.closedAt) return undefined;
      return addPeriod(facts.closedAt, category.graceAfterClosure ?? category.duration!);
  }
}

/** Epoch seconds of `date` (the TTL attribute's unit), rounded up so TTL never fires early. */
export function epochSeconds(date: Date): number {
  return Math.ceil(date.getTime() / 1000);
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
