import defaultPolicy from '../../config/retention-policy.json';
import { forecastExpiries, forecastRows, isoWeekOf } from '../../shared/retention/forecast';
import { loadRetentionPolicy } from '../../shared/retention/policy';
import type { DocumentItem } from '../../shared/retention/retention-items';

const policy = loadRetentionPolicy(defaultPolicy, {
  version: 1,
  tenants: {
    'nyc-inc': {
      controller: { name: 'NYC Inc', contact: 'privacy@nyc.example' },
      timeZone: 'America/New_York',
    },
  },
});
const item = (
  tenant: string,
  category: string,
  dueAt: string | undefined,
  extra: Partial<DocumentItem> = {},
) => ({ tenant, category, dueAt, state: 'active', ...extra }) as DocumentItem;

describe('retention forecast', () => {
  it('names ISO weeks on the tenant calendar, the year of their Thursday', () => {
    // Act / Assess
    expect(isoWeekOf(new Date('2026-12-31T12:00:00Z'), 'UTC')).toBe('2026-W53');
    expect(isoWeekOf(new Date('2027-01-04T12:00:00Z'), 'UTC')).toBe('2027-W01');
    expect(isoWeekOf(new Date('2025-12-29T12:00:00Z'), 'UTC')).toBe('2026-W01');
    // Sunday 23:30 in Paris is already Monday 00:30: the next week.
    expect(isoWeekOf(new Date('2026-12-06T23:30:00Z'), 'Europe/Paris')).toBe('2026-W50');
    expect(isoWeekOf(new Date('2026-12-06T23:30:00Z'), 'America/New_York')).toBe('2026-W49');
  });

  it('counts what falls due in the window per tenant, category and week, restricted and held apart', () => {
    // Prepare
    const now = new Date('2026-12-02T12:00:00Z');
    const until = new Date('2026-12-16T12:00:00Z');
    const items = [
      item('acme-sas', 'case-document', '2026-12-03T00:00:00Z'),
      item('acme-sas', 'case-document', '2026-12-04T00:00:00Z'),
      item('acme-sas', 'case-document', '2026-11-30T00:00:00Z'), // due, not swept yet: this week
      item('acme-sas', 'accounting-document', '2026-12-10T00:00:00Z', {
        restricted: true,
        state: 'restricted',
      }),
      item('acme-sas', 'payroll-document', '2026-12-10T00:00:00Z', { held: true, state: 'held' }),
      item('acme-sas', 'payroll-document', '2027-01-10T00:00:00Z'), // after the window
      item('acme-sas', 'contract', undefined, { state: 'waiting-anchor' }),
      item('acme-sas', 'case-document', '2026-12-03T00:00:00Z', { state: 'expiring' }),
      item('nyc-inc', 'case-document', '2026-12-07T03:00:00Z'), // Sunday evening in New York
    ];
    // Act
    const rows = forecastRows(forecastExpiries(items, policy, now, until));
    // Assess
    expect(rows).toEqual([
      {
        tenant: 'acme-sas',
        category: 'case-document',
        week: '2026-W49',
        expiring: 3,
        restricted: 0,
        held: 0,
      },
      {
        tenant: 'acme-sas',
        category: 'accounting-document',
        week: '2026-W50',
        expiring: 0,
        restricted: 1,
        held: 0,
      },
      {
        tenant: 'acme-sas',
        category: 'payroll-document',
        week: '2026-W50',
        expiring: 0,
        restricted: 0,
        held: 1,
      },
      {
        tenant: 'nyc-inc',
        category: 'case-document',
        week: '2026-W49',
        expiring: 1,
        restricted: 0,
        held: 0,
      },
    ]);
  });
});
