import * as z from 'zod/mini';
import { en } from 'zod/locales';

// zod/mini loads no locale: install English, as classic zod does, so issue messages stay the same.
z.config(en());

/** The earliest instant a date of an event may name. */
export const EARLIEST_PLAUSIBLE_DATE = '1970-01-01T00:00:00Z';
/** How far past the time of processing a date of an event may lie (clocks and time zones). */
export const PLAUSIBLE_AHEAD_MS = 24 * 3600 * 1000;

/**
 * Whether an RFC 3339 date or timestamp lies between {@link EARLIEST_PLAUSIBLE_DATE} and one day
 * after `now` (the time of processing).
 */
export function isPlausibleDate(value: string, now: number = Date.now()): boolean {
  const at = Date.parse(value);
  return at >= Date.parse(EARLIEST_PLAUSIBLE_DATE) && at <= now + PLAUSIBLE_AHEAD_MS;
}

/**
 * Every date of an event: between 1970-01-01 and one day after the time of processing, else the
 * event is refused with `implausible-date:<field>` (a date eight thousand years away is a bug,
 * never a business fact).
 */
const plausibleDate = z.refine<string>((value) => isPlausibleDate(value), {
  message: 'date must lie between 1970-01-01 and one day after the time of processing',
  params: { reason: 'implausible-date' },
  // Only a well-formed date is judged (a malformed one is reported as such).
  when: (payload) => payload.issues.length === 0,
});

/** RFC 3339 timestamp with an offset (`Z` or `±hh:mm`), between 1970 and one day ahead. */
export const Rfc3339Timestamp = z.iso
  .datetime({ offset: true })
  .check(
    plausibleDate,
    z.describe('RFC 3339 timestamp, from 1970-01-01 to one day after the time of processing'),
  );

/** RFC 3339 full date (`YYYY-MM-DD`), or a full timestamp, between 1970 and one day ahead. */
export const Rfc3339Date = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .check(
    plausibleDate,
    z.describe(
      'RFC 3339 date (YYYY-MM-DD) or timestamp, from 1970-01-01 to one day after the time of processing',
    ),
  );

/** The controller's opaque identifier of a person. Personal data: never logged in clear. */
export const SubjectId = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'subjectId must be 1-128 characters of [A-Za-z0-9._:@-]'),
    z.describe('Opaque identifier of the data subject (personal data: never logged in clear)'),
  );

/** The controller (customer company) on whose behalf data is processed. */
export const TenantId = z
  .string()
  .check(
    z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'tenantid must match [a-z0-9][a-z0-9-]{0,62}'),
    z.describe('The controller on whose behalf the data is processed'),
  );

/** A category id of the retention policy (validated against the loaded policy by the operations). */
export const CategoryId = z
  .string()
  .check(
    z.regex(
      /^[a-z0-9][a-z0-9-]{0,62}$/,
      'category must be a lowercase category id of the retention policy',
    ),
    z.describe('A data category of the retention policy, e.g. accounting-document'),
  );

/** A request identifier (erasure, access). */
export const RequestId = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(128),
    z.describe('Identifier of the request, 1-128 characters'),
  );
