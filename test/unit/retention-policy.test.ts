import * as path from 'node:path';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import defaultPolicy from '../../config/retention-policy.json';
import { ConfigurationError, PermanentError } from '../../shared/errors';
import { defaultRetentionPolicy, loadRetentionPolicy } from '../../shared/retention/policy';

/** A mutable copy of the policy file, to break on purpose. */
interface PolicyInput {
  fiscalYearEnd: { default: string; tenants: Record<string, string> };
  categories: Array<Record<string, unknown>>;
}
const clone = (): PolicyInput => JSON.parse(JSON.stringify(defaultPolicy));

describe('retention policy', () => {
  it('loads the default policy with every category id of docs/promises.md', () => {
    // Prepare
    const promised = [
      'accounting-document',
      'contract',
      'electronic-contract',
      'prospect-contact',
      'training-attendance',
      'payroll-document',
      'case-document',
      'identity-contact',
    ];
    // Act
    const policy = loadRetentionPolicy(path.join(__dirname, '../../config/retention-policy.json'));
    // Assess
    expect(policy.categories.map((c) => c.id)).toEqual(expect.arrayContaining(promised));
    expect(policy.category('accounting-document')).toMatchObject({
      duration: { years: 10, months: 0, days: 0 },
      anchor: 'fiscal-year-end',
      erasure: 'restrict',
      restrictionGround: '17(3)(b) legal obligation',
    });
    expect(policy.category('contract').restrictionGround).toBe('17(3)(e) legal claims');
    expect(policy.category('case-document')).toMatchObject({
      graceAfterClosure: { years: 0, months: 0, days: 30 },
      erasure: 'delete',
    });
    expect(policy.categories.some((c) => c.sensitive)).toBe(true);
    expect(policy.fiscalYearEnd('anyone')).toBe('12-31');
  });

  it('names the bad entry when a duration is invalid', () => {
    // Prepare
    const input = clone();
    input.categories[5].duration = 'five years';
    // Act
    const load = () => loadRetentionPolicy(input);
    // Assess
    expect(load).toThrow(ConfigurationError);
    expect(load).toThrow(
      /categories\[5\] \(payroll-document\): duration must be an ISO 8601 period/,
    );
  });

  it.each([
    [
      'a restrict category without its Art. 17(3) ground',
      (p: PolicyInput) => delete p.categories[0].restrictionGround,
      /categories\[0\] \(accounting-document\): restrictionGround is required/,
    ],
    [
      'both duration and grace period',
      (p: PolicyInput) => (p.categories[6].duration = 'P1Y'),
      /categories\[6\] \(case-document\): duration give either duration or graceAfterClosure/,
    ],
    [
      'an unknown anchor',
      (p: PolicyInput) => (p.categories[1].anchor = 'upload'),
      /categories\[1\] \(contract\): anchor/,
    ],
    [
      'a duplicate id',
      (p: PolicyInput) => (p.categories[2].id = 'contract'),
      /categories\[2\] \(contract\): id is a duplicate/,
    ],
    [
      'a legal basis without Art. 6',
      (p: PolicyInput) => (p.categories[3].legalBasis = 'because'),
      /categories\[3\] \(prospect-contact\): legalBasis must name its GDPR Art\. 6 basis/,
    ],
    [
      'a fiscal year end that does not exist',
      (p: PolicyInput) => (p.fiscalYearEnd.tenants = { 'acme-sas': '02-30' }),
      /fiscalYearEnd\.tenants\.acme-sas must be a month-day/,
    ],
  ])('refuses %s', (_name, mutate, message) => {
    // Prepare
    const input = clone();
    mutate(input);
    // Act
    const load = () => loadRetentionPolicy(input);
    // Assess
    expect(load).toThrow(message);
  });

  it('refuses an unknown category with a permanent reason', () => {
    // Prepare
    const policy = loadRetentionPolicy(clone());
    // Act
    const find = () => policy.category('cat-pictures');
    // Assess
    expect(find).toThrow(PermanentError);
    expect(find).toThrow(expect.objectContaining({ reason: 'unknown-category' }));
  });

  it('reads RETENTION_POLICY_FILE when set, with a per-tenant fiscal year end', () => {
    // Prepare
    const input = clone();
    input.fiscalYearEnd.tenants = { 'acme-sas': '03-31' };
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'policy-')), 'policy.json');
    writeFileSync(file, JSON.stringify(input));
    // Act
    const policy = defaultRetentionPolicy({ RETENTION_POLICY_FILE: file });
    // Assess
    expect(policy.fiscalYearEnd('acme-sas')).toBe('03-31');
    expect(policy.fiscalYearEnd('other')).toBe('12-31');
  });
});
