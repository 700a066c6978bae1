import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { ConfigurationError } from '../errors';
import { readJsonConfig } from './json-config';
import { DEFAULT_TIME_ZONE } from './schedule';

// zod/mini loads no locale: install English, as classic zod does, so issue messages stay the same.
z.config(en());

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PERIOD = /^P(?=\d)(\d+Y)?(\d+M)?(\d+D)?$/;
const MONTH_DAY = 'must be a month-day MM-DD that exists every year';

/** Whether `zone` is a time zone this runtime knows (IANA names, through `Intl`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone.includes('/') || zone === 'UTC';
  } catch {
    return false;
  }
}

const TimeZone = z
  .string({ error: 'must be an IANA time zone, e.g. Europe/Paris' })
  .check(z.refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/Paris'));
const MonthDay = z.string({ error: MONTH_DAY }).check(
  z.regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, MONTH_DAY),
  z.refine(
    (v) => v !== '02-29' && new Date(`2025-${v}T00:00:00Z`).toISOString().slice(5, 10) === v,
    MONTH_DAY,
  ),
);

const Controller = z.strictObject({
  name: z.string({ error: 'is required' }).check(z.minLength(1, 'must not be empty')),
  contact: z
    .string({ error: 'is required (an address the controller is reached at)' })
    .check(z.minLength(1, 'must not be empty')),
});

const TenantEntry = z.strictObject({
  controller: Controller,
  fiscalYearEnd: z.optional(MonthDay),
  timeZone: z.optional(TimeZone),
  retention: z._default(
    z.record(
      z.string().check(z.regex(ID, 'must be a category id')),
      z.string().check(z.regex(PERIOD, 'must be an ISO 8601 period, e.g. P6Y or P30D')),
    ),
    {},
  ),
});

const TenantsSchema = z.strictObject({
  version: z.literal(1, { error: 'must be 1' }),
  defaults: z._default(
    z.strictObject({
      fiscalYearEnd: z._default(MonthDay, '12-31'),
      timeZone: z._default(TimeZone, DEFAULT_TIME_ZONE),
    }),
    { fiscalYearEnd: '12-31', timeZone: DEFAULT_TIME_ZONE },
  ),
  tenants: z._default(
    z.record(z.string().check(z.regex(ID, 'must be a tenant id [a-z0-9-]')), TenantEntry),
    {},
  ),
});

/** A controller as GDPR Art. 30(2)(a) names it: name and contact details. */
export interface ControllerDetails {
  readonly name: string;
  readonly contact: string;
}

/** One tenant's instructions, as config/tenants.json gives them (periods as ISO text). */
export interface TenantEntry {
  readonly controller: ControllerDetails;
  readonly fiscalYearEnd?: string;
  readonly timeZone?: string;
  /** Category id → retention period the controller instructs (ISO 8601). */
  readonly retention: Readonly<Record<string, string>>;
}

/** The controllers' instructions: defaults for every tenant, and the tenants the file lists. */
export interface TenantInstructions {
  readonly defaults: { readonly fiscalYearEnd: string; readonly timeZone: string };
  readonly tenants: Readonly<Record<string, TenantEntry>>;
}

/** No instructions: every tenant gets fiscal year end 31 December and Europe/Paris. */
export const NO_INSTRUCTIONS: TenantInstructions = {
  defaults: { fiscalYearEnd: '12-31', timeZone: DEFAULT_TIME_ZONE },
  tenants: {},
};

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  if (path[0] === 'tenants' && path.length >= 2) {
    const rest = path.slice(2);
    if (rest[0] === 'retention' && rest.length >= 2)
      return `tenant ${path[1]}, category ${rest[1]}: ${issue.message}`;
    return `tenant ${path[1]}: ${rest.join('.') || '(entry)'} ${issue.message}`;
  }
  return `${path.join('.') || '(file)'} ${issue.message}`;
}

/**
 * Validates the controllers' instructions (config/tenants.json) from a file path or a parsed
 * object: format, fiscal year ends, time zones, periods. Refuses an invalid file with a
 * {@link ConfigurationError} naming the tenant (and the category). Whether each period lies within
 * its category's legal bounds is checked with the policy (`loadRetentionPolicy`).
 */
export function loadTenantInstructions(pathOrObject: unknown): TenantInstructions {
  const input = readJsonConfig(pathOrObject, 'invalid-tenants', 'tenant configuration');
  const parsed = TenantsSchema.safeParse(input);
  if (!parsed.success)
    throw new ConfigurationError(
      'invalid-tenants',
      `invalid tenant configuration: ${parsed.error.issues.map(describeIssue).join('; ')}`,
    );
  return parsed.data;
}
