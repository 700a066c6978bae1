import fc from 'fast-check';
import { loadRetentionPolicy } from '../../shared/retention/policy';
import { addPeriod, dueDate, endOfFiscalYear, parsePeriod } from '../../shared/retention/schedule';
import {
  expiryShardOf,
  reschedule,
  allExpiryShards,
  type DocumentItem,
} from '../../shared/retention/retention-items';
import defaultPolicy from '../../config/retention-policy.json';

const policy = loadRetentionPolicy(defaultPolicy);
const d = (iso: string) => new Date(iso);

describe('retention schedule', () => {
  it('adds calendar periods in UTC, clamping to the end of shorter months', () => {
    // Prepare / Act / Assess
    expect(addPeriod(d('2026-01-31T00:00:00Z'), parsePeriod('P1M')).toISOString()).toBe(
      '2026-02-28T00:00:00.000Z',
    );
    expect(addPeriod(d('2024-02-29T12:00:00Z'), parsePeriod('P1Y')).toISOString()).toBe(
      '2025-02-28T12:00:00.000Z',
    );
    expect(addPeriod(d('2026-06-30T00:00:00Z'), parsePeriod('P30D')).toISOString()).toBe(
      '2026-07-30T00:00:00.000Z',
    );
    expect(addPeriod(d('2026-11-15T00:00:00Z'), parsePeriod('P1Y2M3D')).toISOString()).toBe(
      '2028-01-18T00:00:00.000Z',
    );
  });

  it('ends a fiscal year at the first instant after its last day', () => {
    // Prepare / Act / Assess
    expect(endOfFiscalYear(d('2026-03-13'), '12-31').toISOString()).toBe(
      '2027-01-01T00:00:00.000Z',
    );
    expect(endOfFiscalYear(d('2026-12-31T23:00:00Z'), '12-31').toISOString()).toBe(
      '2027-01-01T00:00:00.000Z',
    );
    expect(endOfFiscalYear(d('2026-03-31'), '03-31').toISOString()).toBe(
      '2026-04-01T00:00:00.000Z',
    );
    expect(endOfFiscalYear(d('2026-04-01'), '03-31').toISOString()).toBe(
      '2027-04-01T00:00:00.000Z',
    );
  });

  it('computes the due date of each anchor', () => {
    // Prepare
    const facts = { documentDate: d('2026-03-13'), fiscalYearEnd: '12-31' };
    const closed = { ...facts, closedAt: d('2026-06-30T00:00:00Z') };
    // Act / Assess
    expect(dueDate(policy.category('accounting-document'), facts)?.toISOString()).toBe(
      '2037-01-01T00:00:00.000Z',
    );
    expect(dueDate(policy.category('payroll-document'), facts)?.toISOString()).toBe(
      '2031-03-13T00:00:00.000Z',
    );
    expect(dueDate(policy.category('contract'), facts)).toBeUndefined();
    expect(dueDate(policy.category('contract'), closed)?.toISOString()).toBe(
      '2031-06-30T00:00:00.000Z',
    );
    expect(dueDate(policy.category('electronic-contract'), closed)?.toISOString()).toBe(
      '2036-06-30T00:00:00.000Z',
    );
    expect(dueDate(policy.category('case-document'), closed)?.toISOString()).toBe(
      '2026-07-30T00:00:00.000Z',
    );
  });

  it('never schedules a document before its anchor, whatever the dates (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: d('1990-01-01'), max: d('2090-01-01'), noInvalidDate: true }),
        fc.constantFrom(...policy.categories),
        (date, category) => {
          const due = dueDate(category, {
            documentDate: date,
            closedAt: date,
            fiscalYearEnd: '06-30',
          });
          return due !== undefined && due.getTime() >= date.getTime();
        },
      ),
    );
  });

  it('keeps expiresAt and its index shard only while scheduled and not held', () => {
    // Prepare
    const item = {
      pk: 'T#acme-sas#S#abc',
      sk: 'DOC#def',
      dueAt: '2031-01-01T00:00:00.000Z',
      state: 'active',
      rev: 0,
    } as DocumentItem;
    // Act
    const scheduled = reschedule(item);
    const held = reschedule({ ...scheduled, held: true });
    const released = reschedule({ ...held, held: false });
    const waiting = reschedule({ ...item, dueAt: undefined });
    // Assess
    expect(scheduled).toMatchObject({ state: 'active', expiresAt: 1924992000 });
    expect(allExpiryShards()).toContain(scheduled.expiryShard);
    expect(scheduled.expiryShard).toBe(expiryShardOf(item.pk, item.sk));
    expect(held.state).toBe('held');
    expect(held.expiresAt).toBeUndefined();
    expect(held.expiryShard).toBeUndefined();
    expect(released).toMatchObject({ state: 'active', expiresAt: 1924992000 });
    expect(waiting.state).toBe('waiting-anchor');
    expect(waiting.expiresAt).toBeUndefined();
  });
});
