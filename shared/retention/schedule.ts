import { TZDateMini } from '@date-fns/tz';
import type { RetentionCategory } from './policy';

/** A calendar period (ISO 8601 `PnYnMnD`). */
export interface Period {
  readonly years: number;
  readonly months: number;
  readonly days: number;
}

/** No time at all (`P0D`). */
export const ZERO_PERIOD: Period = { years: 0, months: 0, days: 0 };

/** One month: the GDPR Art. 12(3) deadline to answer a request. */
export const ONE_MONTH: Period = { years: 0, months: 1, days: 0 };

/** Parses an ISO 8601 period of years, months and days (`P10Y`, `P1Y6M`, `P30D`). */
export function parsePeriod(text: string): Period {
  const m = /^P(?=\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$/.exec(text);
  if (!m) throw new Error(`not an ISO 8601 period of years, months and days: ${text}`);
  return { years: Number(m[1] ?? 0), months: Number(m[2] ?? 0), days: Number(m[3] ?? 0) };
}

/** The ISO 8601 text of a period (`P10Y`, `P1Y6M`, `P0D`). */
export function formatPeriod(p: Period): string {
  const text = `${p.years ? `${p.years}Y` : ''}${p.months ? `${p.months}M` : ''}${p.days ? `${p.days}D` : ''}`;
  return `P${text || '0D'}`;
}

/** `from` + `period` on the UTC calendar (the comparison of periods below needs no time zone). */
function addPeriodUtc(from: number, period: Period): number {
  const at = new Date(from);
  const m0 = at.getUTCMonth() + period.months;
  const year = at.getUTCFullYear() + period.years + Math.floor(m0 / 12);
  const month = ((m0 % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(year, month, Math.min(at.getUTCDate(), lastDay) + period.days);
}

/** Every day of a four-year cycle (one leap year): where calendar periods can differ. */
const CYCLE_DAYS = Array.from({ length: 1461 }, (_, i) => Date.UTC(2024, 0, 1 + i));

/**
 * Whether `a` ends no later than `b` whatever day they are counted from (`P1Y` and `P365D`
 * compare differently from a leap year: neither is at most the other then).
 */
export function periodAtMost(a: Period, b: Period): boolean {
  const [monthsA, monthsB] = [a.years * 12 + a.months, b.years * 12 + b.months];
  // Adding more months, or more days, never ends earlier: only mixed periods need the days.
  if (monthsA <= monthsB && a.days <= b.days) return true;
  if (monthsA >= monthsB && a.days >= b.days) return false;
  return CYCLE_DAYS.every((day) => addPeriodUtc(day, a) <= addPeriodUtc(day, b));
}

/** Whether `period` lies within [`minimum`, `maximum`] whatever day it is counted from. */
export function periodWithin(period: Period, minimum: Period, maximum: Period): boolean {
  return periodAtMost(minimum, period) && periodAtMost(period, maximum);
}

/** The time zone a tenant's dates are read in when its configuration names none. */
export const DEFAULT_TIME_ZONE = 'Europe/Paris';

/** A wall-clock view of `instant` in `timeZone` (getters and setters work in that zone). */
function inZone(instant: Date | number, timeZone: string): InstanceType<typeof TZDateMini> {
  return new TZDateMini(typeof instant === 'number' ? instant : instant.getTime(), timeZone);
}

/**
 * Adds a calendar period on the wall clock of `timeZone` (UTC unless given). Years and months
 * first, clamping the day to the end of a shorter month (31 January + 1 month = 28/29 February),
 * then days; the time of day is kept, so a period never gains or loses an hour across a change of
 * daylight saving time.
 */
export function addPeriod(from: Date, period: Period, timeZone = 'UTC'): Date {
  const local = inZone(from, timeZone);
  const m0 = local.getMonth() + period.months;
  const year = local.getFullYear() + period.years + Math.floor(m0 / 12);
  const month = ((m0 % 12) + 12) % 12;
  const lastDay = new TZDateMini(year, month + 1, 0, timeZone).getDate();
  const day = Math.min(local.getDate(), lastDay) + period.days;
  const at = (d: number) =>
    new TZDateMini(
      year,
      month,
      d,
      local.getHours(),
      local.getMinutes(),
      local.getSeconds(),
      local.getMilliseconds(),
      timeZone,
    );
  return new Date(at(day).getTime());
}

/**
 * The end of the fiscal year that contains `date`, for a fiscal year ending on `monthDay`
 * (`MM-DD`), both read on the wall clock of `timeZone` (UTC unless given): the first instant
 * after that day (midnight starting the next day, in that zone).
 */
export function endOfFiscalYear(date: Date, monthDay: string, timeZone = 'UTC'): Date {
  const [mm, dd] = monthDay.split('-').map(Number);
  const local = inZone(date, timeZone);
  let year = local.getFullYear();
  const month = local.getMonth() + 1;
  if (month > mm! || (month === mm && local.getDate() > dd!)) year += 1;
  return new Date(new TZDateMini(year, mm! - 1, dd! + 1, timeZone).getTime());
}

/**
 * The instant of a document's date as the producer sent it: a timestamp as it says; a date
 * without a time (`YYYY-MM-DD`) as the start of that day in `timeZone`, the tenant's.
 */
export function documentInstant(text: string, timeZone: string): Date {
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!dateOnly) return new Date(text);
  const [, y, m, d] = dateOnly.map(Number);
  return new Date(new TZDateMini(y!, m! - 1, d!, timeZone).getTime());
}

/** What a document's retention clock may start from. */
export interface AnchorFacts {
  /** The document's date (`documentDate`), else the upload event's time. */
  readonly documentDate: Date;
  /** The subject's account closure / end of relationship, when known. */
  readonly closedAt?: Date;
  /** The tenant's fiscal year end, `MM-DD`. */
  readonly fiscalYearEnd: string;
  /** The tenant's time zone (IANA), in which its fiscal year and periods are counted. */
  readonly timeZone: string;
}

/** The periods of a category that decide its due date. */
export type ScheduleRule = Pick<RetentionCategory, 'anchor' | 'duration' | 'graceAfterClosure'>;

/**
 * When a document of `category` falls due for deletion, or undefined while its anchor (account
 * closure) is not known yet: anchor + duration, or closure + grace period for categories that
 * keep nothing after closure, counted on the tenant's wall clock.
 */
export function dueDate(category: ScheduleRule, facts: AnchorFacts): Date | undefined {
  const { timeZone } = facts;
  switch (category.anchor) {
    case 'document-date':
      return addPeriod(facts.documentDate, category.duration!, timeZone);
    case 'fiscal-year-end':
      return addPeriod(
        endOfFiscalYear(facts.documentDate, facts.fiscalYearEnd, timeZone),
        category.duration!,
        timeZone,
      );
    case 'relationship-end':
      if (!facts.closedAt) return undefined;
      return addPeriod(facts.closedAt, category.graceAfterClosure ?? category.duration!, timeZone);
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
