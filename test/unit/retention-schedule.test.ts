import fc from 'fast-check';
import { loadRetentionPolicy } from '../../shared/retention/policy';
import {
  addPeriod,
  documentInstant,
  dueDate,
  endOfFiscalYear,
  parsePeriod,
  periodAtMost,
} from '../../shared/retention/schedule';
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
    const facts = { documentDate: d('2026-03-13'), fiscalYearEnd: '12-31', timeZone: 'UTC' };
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

  it("counts a fiscal year in the tenant's time zone: 00:30 on 1 January in Paris is the new year", () => {
    // Prepare: 2027-01-01T00:30+01:00 is still 2026-12-31 in UTC.
    const facts = {
      documentDate: d('2027-01-01T00:30:00+01:00'),
      fiscalYearEnd: '12-31',
      timeZone: 'Europe/Paris',
    };
    // Act
    const due = dueDate(policy.category('accounting-document'), facts);
    // Assess: fiscal year 2027 ends at midnight Paris time on 31 December 2027; ten years later.
    expect(due?.toISOString()).toBe('2037-12-31T23:00:00.000Z');
  });

  it("reads a date without time as the start of that day in the tenant's time zone", () => {
    // Act
    const paris = documentInstant('2026-03-13', 'Europe/Paris');
    const summer = documentInstant('2026-07-01', 'Europe/Paris');
    const stamped = documentInstant('2026-03-13T10:00:00+02:00', 'Europe/Paris');
    // Assess
    expect(paris.toISOString()).toBe('2026-03-12T23:00:00.000Z');
    expect(summer.toISOString()).toBe('2026-06-30T22:00:00.000Z');
    expect(stamped.toISOString()).toBe('2026-03-13T08:00:00.000Z');
  });

  it('keeps the time of day across a change of daylight saving time', () => {
    // Prepare: 20 March 2026 00:00 in Paris is winter time (+01:00); 20 April is summer (+02:00).
    const from = documentInstant('2026-03-20', 'Europe/Paris');
    // Act
    const month = addPeriod(from, parsePeriod('P1M'), 'Europe/Paris');
    const days = addPeriod(from, parsePeriod('P31D'), 'Europe/Paris');
    // Assess: midnight in Paris both times, one hour less in UTC.
    expect(month.toISOString()).toBe('2026-04-19T22:00:00.000Z');
    expect(days.toISOString()).toBe('2026-04-19T22:00:00.000Z');
  });

  it('ends a fiscal year at midnight in the tenant zone, for any fiscal year end', () => {
    // Act / Assess
    expect(endOfFiscalYear(d('2026-03-31T22:30:00Z'), '03-31', 'Europe/Paris').toISOString()).toBe(
      '2027-03-31T22:00:00.000Z',
    );
    expect(endOfFiscalYear(d('2026-03-31T21:30:00Z'), '03-31', 'Europe/Paris').toISOString()).toBe(
      '2026-03-31T22:00:00.000Z',
    );
    expect(
      endOfFiscalYear(d('2026-12-31T23:30:00-05:00'), '12-31', 'America/New_York').toISOString(),
    ).toBe('2027-01-01T05:00:00.000Z');
  });

  it('compares periods whatever day they are counted from', () => {
    // Act / Assess
    expect(periodAtMost(parsePeriod('P10Y'), parsePeriod('P12Y'))).toBe(true);
    expect(periodAtMost(parsePeriod('P12Y'), parsePeriod('P10Y'))).toBe(false);
    expect(periodAtMost(parsePeriod('P1M'), parsePeriod('P31D'))).toBe(true);
    expect(periodAtMost(parsePeriod('P1M'), parsePeriod('P30D'))).toBe(false);
    expect(periodAtMost(parsePeriod('P1Y'), parsePeriod('P365D'))).toBe(false);
    expect(periodAtMost(parsePeriod('P365D'), parsePeriod('P1Y'))).toBe(true);
    expect(periodAtMost(parsePeriod('P0D'), parsePeriod('P0D'))).toBe(true);
  });

  it('never schedules a document before its anchor, whatever the dates (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: d('1990-01-01'), max: d('2090-01-01'), noInvalidDate: true }),
        fc.constantFrom(...policy.categories),
        fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Pacific/Kiritimati'),
        (date, category, timeZone) => {
          const due = dueDate(category, {
            documentDate: date,
            closedAt: date,
            fiscalYearEnd: '06-30',
            timeZone,
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
