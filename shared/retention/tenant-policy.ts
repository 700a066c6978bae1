import { ConfigurationError, PermanentError } from '../errors';
import type { RetentionCategory } from './policy';
import {
  documentInstant,
  dueDate,
  formatPeriod,
  parsePeriod,
  periodAtMost,
  type Period,
} from './schedule';
import type { ControllerDetails, TenantInstructions } from './tenant-config';

/** A category as it applies to one tenant: its period is the controller's, when it gave one. */
export interface TenantCategory extends RetentionCategory {
  /** The period the policy sets for every tenant (duration, or grace period after closure). */
  readonly policyPeriod: Period;
  /** The period this tenant's controller instructs, when it gave one (within the legal bounds). */
  readonly instructed?: Period;
  /** The period that applies: the controller's instruction, else the policy's. */
  readonly period: Period;
  /**
   * How long the law requires the data kept: the legal minimum, else the policy's period. Data an
   * erasure restricted is kept this long and no longer.
   */
  readonly legalDuty: Period;
}

/** What a due date is computed from, as stored on a document item. */
export interface DocumentFacts {
  /** The document's date: ISO text (a date without time is read in the tenant's zone) or instant. */
  readonly documentDate: string | Date;
  /** The subject's account closure, when known. */
  readonly closedAt?: string | Date;
  /** Restricted by an erasure request: kept for the legal duty only. */
  readonly restricted?: boolean;
}

/** The category `base` with `period` as its duration (or grace period after closure). */
function withPeriod(base: RetentionCategory, period: Period): RetentionCategory {
  return base.graceAfterClosure
    ? { ...base, graceAfterClosure: period }
    : { ...base, duration: period };
}

/**
 * The retention policy as it applies to one tenant (one controller): the categories with its
 * instructions over the policy's periods, its fiscal year end and its time zone. The one source
 * every due date, the register and the export manifest read.
 */
export class TenantPolicy {
  /** The controller as config/tenants.json names it; undefined for a tenant it does not list. */
  readonly controller?: ControllerDetails;
  /** Fiscal year end, `MM-DD`. */
  readonly fiscalYearEnd: string;
  /** IANA time zone the tenant's dates are read in. */
  readonly timeZone: string;
  /** Every category of the policy, resolved for this tenant, in policy order. */
  readonly categories: readonly TenantCategory[];
  private readonly byId: ReadonlyMap<string, TenantCategory>;

  /**
   * Resolves `tenant` against the policy's categories. Refuses, naming the tenant and the
   * category, an instruction for a category the policy does not know, for a category without
   * legal bounds, or outside the bounds.
   */
  constructor(
    readonly tenant: string,
    categories: readonly RetentionCategory[],
    instructions: TenantInstructions,
  ) {
    const entry = instructions.tenants[tenant];
    if (entry) this.controller = entry.controller;
    this.fiscalYearEnd = entry?.fiscalYearEnd ?? instructions.defaults.fiscalYearEnd;
    this.timeZone = entry?.timeZone ?? instructions.defaults.timeZone;
    const retention = entry?.retention ?? {};
    for (const id of Object.keys(retention))
      if (!categories.some((c) => c.id === id))
        throw this.refusal(id, 'the retention policy has no such category');
    this.categories = categories.map((c) => this.resolve(c, retention[c.id]));
    this.byId = new Map(this.categories.map((c) => [c.id, c]));
  }

  /** Whether config/tenants.json lists this tenant (else it runs on the defaults). */
  get configured(): boolean {
    return this.controller !== undefined;
  }

  /** The categories this tenant's controller changed the period of. */
  get overrides(): readonly TenantCategory[] {
    return this.categories.filter((c) => c.instructed !== undefined);
  }

  /** The category `id` for this tenant, or undefined when the policy does not know it. */
  find(id: string): TenantCategory | undefined {
    return this.byId.get(id);
  }

  /** The category `id` for this tenant; refuses an unknown one (permanent `unknown-category`). */
  category(id: string): TenantCategory {
    const found = this.byId.get(id);
    if (!found)
      throw new PermanentError('unknown-category', 'category is not in the retention policy');
    return found;
  }

  /** The instant of a document date as sent: a date without time starts in the tenant's zone. */
  documentDate(text: string): Date {
    return documentInstant(text, this.timeZone);
  }

  /**
   * When a document of `category` falls due for this tenant, or undefined while its anchor
   * (account closure) is unknown: counted on the tenant's calendar from its anchor, over the
   * tenant's period, or over the legal duty once an erasure restricted it.
   */
  dueDate(category: TenantCategory, facts: DocumentFacts): Date | undefined {
    const instant = (v: string | Date) => (typeof v === 'string' ? this.documentDate(v) : v);
    return dueDate(withPeriod(category, facts.restricted ? category.legalDuty : category.period), {
      documentDate: instant(facts.documentDate),
      closedAt: facts.closedAt === undefined ? undefined : instant(facts.closedAt),
      fiscalYearEnd: this.fiscalYearEnd,
      timeZone: this.timeZone,
    });
  }

  private resolve(c: RetentionCategory, instruction: string | undefined): TenantCategory {
    const policyPeriod = (c.graceAfterClosure ?? c.duration)!;
    const legalDuty = c.legalMinimum ?? policyPeriod;
    if (instruction === undefined) return { ...c, policyPeriod, period: policyPeriod, legalDuty };
    const instructed = parsePeriod(instruction);
    if (!c.legalMinimum || !c.legalMaximum)
      throw this.refusal(c.id, 'the policy states no legal bounds for it: it cannot be changed');
    if (!periodAtMost(c.legalMinimum, instructed))
      throw this.refusal(
        c.id,
        `${instruction} is shorter than the legal minimum ${formatPeriod(c.legalMinimum)}`,
      );
    if (!periodAtMost(instructed, c.legalMaximum))
      throw this.refusal(
        c.id,
        `${instruction} is longer than the legal maximum ${formatPeriod(c.legalMaximum)}`,
      );
    return {
      ...withPeriod(c, instructed),
      policyPeriod,
      instructed,
      period: instructed,
      legalDuty,
    };
  }

  private refusal(category: string, why: string): ConfigurationError {
    return new ConfigurationError(
      'invalid-tenants',
      `invalid tenant configuration: tenant ${this.tenant}, category ${category}: ${why}`,
    );
  }
}
