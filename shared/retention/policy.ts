import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { ConfigurationError, PermanentError } from '../errors';
import defaultPolicyDocument from '../../config/retention-policy.json';
import defaultTenantsDocument from '../../config/tenants.json';
import { deployedConfig } from '../deployed-config';
import { readJsonConfig } from './json-config';
import { parsePeriod, periodAtMost, periodWithin, ZERO_PERIOD, type Period } from './schedule';
import { loadTenantInstructions, NO_INSTRUCTIONS, type TenantInstructions } from './tenant-config';
import { TenantPolicy } from './tenant-policy';

/** Where a category's retention clock starts. */
export const RetentionAnchor = z.enum(['document-date', 'fiscal-year-end', 'relationship-end']);
/** Where a category's retention clock starts. */
export type RetentionAnchor = z.infer<typeof RetentionAnchor>;

/** The GDPR Art. 17(3) grounds on which an erasure request restricts instead of deleting. */
export const RestrictionGround = z.enum(['17(3)(b) legal obligation', '17(3)(e) legal claims']);
/** An Art. 17(3) ground. */
export type RestrictionGround = z.infer<typeof RestrictionGround>;

// zod/mini loads no locale: install English, as classic zod does, so issue messages stay the same.
z.config(en());

const PERIOD_MESSAGE = 'must be an ISO 8601 period of years, months and days, e.g. P10Y or P30D';
/** An ISO 8601 period of years, months and days (`P10Y`, `P1Y6M`, `P30D`). */
export const IsoPeriod = z
  .string({ error: PERIOD_MESSAGE })
  .check(z.regex(/^P(?=\d)(\d+Y)?(\d+M)?(\d+D)?$/, PERIOD_MESSAGE));
/** A month-day `MM-DD` that exists every year (no 29 February). */
export const MonthDay = z.string({ error: 'must be a month-day MM-DD' }).check(
  z.regex(
    /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
    'must be a month-day MM-DD that exists every year',
  ),
  z.refine((v) => !Number.isNaN(Date.parse(`2025-${v}T00:00:00Z`)) && v !== '02-29', {
    message: 'must be a month-day MM-DD that exists every year',
  }),
  z.refine((v) => new Date(`2025-${v}T00:00:00Z`).toISOString().slice(5, 10) === v, {
    message: 'must be a month-day MM-DD that exists every year',
  }),
);

const CategorySchema = z
  .strictObject({
    id: z
      .string({ error: 'is required' })
      .check(z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a lowercase id [a-z0-9-]')),
    description: z.string({ error: 'is required' }).check(z.minLength(1, 'must not be empty')),
    duration: z.optional(IsoPeriod),
    graceAfterClosure: z.optional(IsoPeriod),
    anchor: RetentionAnchor,
    legalBasis: z
      .string({ error: 'is required (GDPR Art. 6 basis)' })
      .check(
        z.regex(/Art\. 6/, 'must name its GDPR Art. 6 basis, e.g. "Art. 6(1)(c) legal obligation"'),
      ),
    purpose: z.string({ error: 'is required' }).check(z.minLength(1, 'must not be empty')),
    sensitive: z.boolean({ error: 'must be true or false (GDPR Art. 9 data)' }),
    erasure: z.enum(['delete', 'restrict'], { error: 'must be "delete" or "restrict"' }),
    restrictionGround: z.optional(RestrictionGround),
    legalMinimum: z.optional(IsoPeriod),
    legalMaximum: z.optional(IsoPeriod),
  })
  .check(
    z.superRefine((c, ctx) => {
      for (const issue of boundsIssues(c)) ctx.addIssue(issue);
      if ((c.duration === undefined) === (c.graceAfterClosure === undefined))
        ctx.addIssue({
          code: 'custom',
          path: ['duration'],
          message:
            'give either duration or graceAfterClosure (nothing kept after closure), not both',
        });
      if (c.graceAfterClosure !== undefined && c.anchor !== 'relationship-end')
        ctx.addIssue({
          code: 'custom',
          path: ['graceAfterClosure'],
          message: 'only applies to categories anchored at relationship-end',
        });
      if (c.erasure === 'restrict' && c.restrictionGround === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['restrictionGround'],
          message: 'is required when erasure is "restrict" (the Art. 17(3) ground)',
        });
      if (c.erasure === 'delete' && c.restrictionGround !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['restrictionGround'],
          message: 'only applies when erasure is "restrict"',
        });
    }),
  );

/**
 * The legal bounds of a category: both or neither; minimum <= the policy's period <= maximum
 * (from any start date); a category that erasure restricts keeps its data for a legal duty, so its
 * minimum (that duty) is longer than nothing.
 */
function boundsIssues(c: {
  duration?: string;
  graceAfterClosure?: string;
  erasure: string;
  legalMinimum?: string;
  legalMaximum?: string;
}): Array<{ code: 'custom'; path: string[]; message: string }> {
  const issue = (field: string, message: string) => ({
    code: 'custom' as const,
    path: [field],
    message,
  });
  const valid = (p?: string) => p !== undefined && IsoPeriod.safeParse(p).success;
  if ((c.legalMinimum === undefined) !== (c.legalMaximum === undefined))
    return [issue('legalMinimum', 'give both legalMinimum and legalMaximum, or neither')];
  if (!valid(c.legalMinimum) || !valid(c.legalMaximum)) return [];
  const period = c.duration ?? c.graceAfterClosure;
  const [min, max] = [parsePeriod(c.legalMinimum!), parsePeriod(c.legalMaximum!)];
  if (!periodAtMost(min, max))
    return [issue('legalMaximum', `must not be shorter than legalMinimum ${c.legalMinimum}`)];
  if (valid(period) && !periodWithin(parsePeriod(period!), min, max))
    return [issue('legalMinimum', `the policy's own period ${period} must lie within the bounds`)];
  if (c.erasure === 'restrict' && periodAtMost(min, ZERO_PERIOD))
    return [
      issue(
        'legalMinimum',
        'must be longer than P0D when erasure is "restrict": restricted data is kept for that legal duty',
      ),
    ];
  return [];
}

const PolicySchema = z
  .strictObject({
    version: z.literal(1, { error: 'must be 1' }),
    fiscalYearEnd: z.optional(
      z.unknown().check(
        z.refine(() => false, {
          message:
            'moved to config/tenants.json: defaults.fiscalYearEnd, and fiscalYearEnd per tenant',
        }),
      ),
    ),
    categories: z.array(CategorySchema).check(z.minLength(1, 'must list at least one category')),
  })
  .check(
    z.superRefine((p, ctx) => {
      const seen = new Set<string>();
      p.categories.forEach((c, i) => {
        if (seen.has(c.id))
          ctx.addIssue({
            code: 'custom',
            path: ['categories', i, 'id'],
            message: 'is a duplicate',
          });
        seen.add(c.id);
      });
    }),
  );

/** A data category of the retention policy, validated, with its periods parsed. */
export interface RetentionCategory {
  readonly id: string;
  readonly description: string;
  /** How long the data is kept after its anchor; undefined for "nothing kept after closure". */
  readonly duration?: Period;
  /** For categories that keep nothing after closure: the grace period after closure. */
  readonly graceAfterClosure?: Period;
  readonly anchor: RetentionAnchor;
  /** GDPR Art. 6 basis. */
  readonly legalBasis: string;
  readonly purpose: string;
  /** GDPR Art. 9 data: isolated under its own key, visible as such in the log. */
  readonly sensitive: boolean;
  /** What an erasure request does before the retention duty ends. */
  readonly erasure: 'delete' | 'restrict';
  /** Art. 17(3) ground when `erasure` is `restrict`. */
  readonly restrictionGround?: RestrictionGround;
  /**
   * The shortest period the law allows for this category: the legal duty restricted data is kept
   * for. Absent (with {@link legalMaximum}) when a controller may not change the period.
   */
  readonly legalMinimum?: Period;
  /** The longest period the law allows a controller to instruct. */
  readonly legalMaximum?: Period;
}

/**
 * The retention policy: the categories with their defaults and legal bounds, and the controllers'
 * instructions (config/tenants.json), validated together. What enforcement, the register and the
 * export read is {@link forTenant}: one resolved policy per tenant.
 */
export class RetentionPolicy {
  private readonly byId: ReadonlyMap<string, RetentionCategory>;
  private readonly resolved = new Map<string, TenantPolicy>();

  /** Validates every tenant's instructions against the categories' bounds (throws naming both). */
  constructor(
    /** Categories, in file order, with the policy's defaults. */
    readonly categories: readonly RetentionCategory[],
    /** The controllers' instructions. @default none: every tenant gets the defaults */
    readonly instructions: TenantInstructions = NO_INSTRUCTIONS,
  ) {
    this.byId = new Map(categories.map((c) => [c.id, c]));
    for (const tenant of Object.keys(instructions.tenants)) this.forTenant(tenant);
  }

  /** The category `id` with the policy's defaults, or undefined when the policy does not know it. */
  find(id: string): RetentionCategory | undefined {
    return this.byId.get(id);
  }

  /** The category `id`; refuses an unknown category with the permanent reason `unknown-category`. */
  category(id: string): RetentionCategory {
    const found = this.byId.get(id);
    if (!found)
      throw new PermanentError('unknown-category', 'category is not in the retention policy');
    return found;
  }

  /**
   * The policy as it applies to `tenant`: its controller's instructions over the defaults. A
   * tenant that config/tenants.json does not list gets the defaults (periods of the policy,
   * `defaults.fiscalYearEnd`, `defaults.timeZone`).
   */
  forTenant(tenant: string): TenantPolicy {
    let policy = this.resolved.get(tenant);
    if (!policy) {
      policy = new TenantPolicy(tenant, this.categories, this.instructions);
      this.resolved.set(tenant, policy);
    }
    return policy;
  }

  /** The tenants config/tenants.json lists, resolved, in file order. */
  configuredTenants(): TenantPolicy[] {
    return Object.keys(this.instructions.tenants).map((t) => this.forTenant(t));
  }
}

function describeIssue(input: unknown, issue: z.core.$ZodIssue): string {
  const path = issue.path;
  let where = '';
  let rest = path;
  if (path[0] === 'categories' && typeof path[1] === 'number') {
    const entry = (input as { categories?: Array<{ id?: unknown }> }).categories?.[path[1]];
    const id = typeof entry?.id === 'string' ? ` (${entry.id})` : '';
    where = `categories[${path[1]}]${id}`;
    rest = path.slice(2);
  }
  const field = rest.map(String).join('.');
  const subject = [where && `${where}:`, field].filter(Boolean).join(' ');
  return `${subject || '(policy)'} ${issue.message}`;
}

/**
 * Validates and loads a retention policy, and the controllers' instructions over it, each from a
 * JSON file path or an already parsed object (no instructions: every tenant gets the defaults).
 * Refuses an invalid policy with a {@link ConfigurationError} whose message names the bad entry,
 * e.g. `categories[3] (payroll-document): duration must be an ISO 8601 period …`, and an
 * instruction outside its category's bounds naming the tenant and the category.
 */
export function loadRetentionPolicy(
  pathOrObject: string | unknown,
  tenants?: string | unknown,
): RetentionPolicy {
  const input = readJsonConfig(pathOrObject, 'invalid-policy', 'retention policy');
  const parsed = PolicySchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => describeIssue(input, i));
    throw new ConfigurationError(
      'invalid-policy',
      `invalid retention policy: ${problems.join('; ')}`,
    );
  }
  const categories = parsed.data.categories.map((c): RetentionCategory => ({
    id: c.id,
    description: c.description,
    ...(c.duration ? { duration: parsePeriod(c.duration) } : {}),
    ...(c.graceAfterClosure ? { graceAfterClosure: parsePeriod(c.graceAfterClosure) } : {}),
    anchor: c.anchor,
    legalBasis: c.legalBasis,
    purpose: c.purpose,
    sensitive: c.sensitive,
    erasure: c.erasure,
    ...(c.restrictionGround ? { restrictionGround: c.restrictionGround } : {}),
    ...(c.legalMinimum ? { legalMinimum: parsePeriod(c.legalMinimum) } : {}),
    ...(c.legalMaximum ? { legalMaximum: parsePeriod(c.legalMaximum) } : {}),
  }));
  return new RetentionPolicy(
    categories,
    tenants === undefined ? NO_INSTRUCTIONS : loadTenantInstructions(tenants),
  );
}

/**
 * The policy the functions run with: the policy and instructions the deployment gave the
 * construct, bundled into each function (changing them = edit the files and deploy); unbundled,
 * `config/retention-policy.json` and `config/tenants.json`, or the files named by
 * `RETENTION_POLICY_FILE` and `TENANTS_FILE` (local use).
 */
export function defaultRetentionPolicy(env: NodeJS.ProcessEnv = process.env): RetentionPolicy {
  const named = (file: string | undefined) => (file && file.trim() !== '' ? file : undefined);
  return loadRetentionPolicy(
    named(env.RETENTION_POLICY_FILE) ?? deployedConfig?.retentionPolicy ?? defaultPolicyDocument,
    named(env.TENANTS_FILE) ?? deployedConfig?.tenants ?? defaultTenantsDocument,
  );
}
