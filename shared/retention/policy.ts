import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { ConfigurationError, PermanentError } from '../errors';
import defaultPolicyDocument from '../../config/retention-policy.json';
import { parsePeriod, type Period } from './schedule';

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
const IsoPeriod = z
  .string({ error: PERIOD_MESSAGE })
  .check(z.regex(/^P(?=\d)(\d+Y)?(\d+M)?(\d+D)?$/, PERIOD_MESSAGE));
const MonthDay = z.string({ error: 'must be a month-day MM-DD' }).check(
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
  })
  .check(
    z.superRefine((c, ctx) => {
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

const PolicySchema = z
  .strictObject({
    version: z.literal(1, { error: 'must be 1' }),
    fiscalYearEnd: z._default(
      z.strictObject({
        default: z._default(MonthDay, '12-31'),
        tenants: z._default(
          z.record(z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/)), MonthDay),
          {},
        ),
      }),
      { default: '12-31', tenants: {} },
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
}

/** The retention policy: categories and fiscal year ends, validated. */
export class RetentionPolicy {
  private readonly byId: ReadonlyMap<string, RetentionCategory>;

  constructor(
    /** Categories, in file order. */
    readonly categories: readonly RetentionCategory[],
    private readonly fiscalYearEnds: {
      readonly default: string;
      readonly tenants: Record<string, string>;
    },
  ) {
    this.byId = new Map(categories.map((c) => [c.id, c]));
  }

  /** The category `id`, or undefined when the policy does not know it. */
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

  /** The fiscal year end (MM-DD) of `tenant`: its override, else the policy default. */
  fiscalYearEnd(tenant: string): string {
    return this.fiscalYearEnds.tenants[tenant] ?? this.fiscalYearEnds.default;
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
 * Validates and loads a retention policy from a JSON file path or an already parsed object.
 * Refuses an invalid policy with a {@link ConfigurationError} whose message names the bad entry,
 * e.g. `categories[3] (payroll-document): duration must be an ISO 8601 period …`.
 */
export function loadRetentionPolicy(pathOrObject: string | unknown): RetentionPolicy {
  let input: unknown = pathOrObject;
  if (typeof pathOrObject === 'string') {
    try {
      input = JSON.parse(readFileSync(pathOrObject, 'utf8'));
    } catch (error) {
      throw new ConfigurationError(
        'invalid-policy',
        `retention policy ${pathOrObject} cannot be read as JSON: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
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
  }));
  return new RetentionPolicy(categories, parsed.data.fiscalYearEnd);
}

/**
 * The policy the functions run with: `config/retention-policy.json`, bundled into each function
 * (changing it = edit the file and deploy), or the file named by `RETENTION_POLICY_FILE` (local use).
 */
export function defaultRetentionPolicy(env: NodeJS.ProcessEnv = process.env): RetentionPolicy {
  const file = env.RETENTION_POLICY_FILE;
  return loadRetentionPolicy(file && file.trim() !== '' ? file : defaultPolicyDocument);
}
