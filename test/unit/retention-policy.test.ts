import * as path from 'node:path';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import defaultPolicy from '../../config/retention-policy.json';
import { ConfigurationError, PermanentError } from '../../shared/errors';
import { defaultRetentionPolicy, loadRetentionPolicy } from '../../shared/retention/policy';

/** A mutable copy of the policy file, to break on purpose. */
interface PolicyInput {
  fiscalYearEnd?: unknown;
  categories: Array<Record<string, unknown>>;
}
const clone = (): PolicyInput => JSON.parse(JSON.stringify(defaultPolicy));

/** A tenants file with one controller, and what the test adds to its entry. */
const tenants = (entry: Record<string, unknown> = {}, defaults?: Record<string, unknown>) => ({
  version: 1,
  ...(defaults ? { defaults } : {}),
  tenants: {
    'acme-sas': { controller: { name: 'ACME SAS', contact: 'dpo@acme.example' }, ...entry },
  },
});

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
    expect(policy.forTenant('anyone')).toMatchObject({
      fiscalYearEnd: '12-31',
      timeZone: 'Europe/Paris',
      configured: false,
    });
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
      'fiscal year ends in the policy (they moved to the tenants file)',
      (p: PolicyInput) => (p.fiscalYearEnd = { default: '12-31', tenants: {} }),
      /fiscalYearEnd moved to config\/tenants\.json/,
    ],
    [
      'a policy period outside its own legal bounds',
      (p: PolicyInput) => (p.categories[3].legalMaximum = 'P2Y'),
      /categories\[3\] \(prospect-contact\): legalMinimum the policy's own period P3Y must lie within the bounds/,
    ],
    [
      'a minimum without a maximum',
      (p: PolicyInput) => delete p.categories[3].legalMaximum,
      /categories\[3\] \(prospect-contact\): legalMinimum give both legalMinimum and legalMaximum/,
    ],
    [
      'no legal duty for a category that erasure restricts',
      (p: PolicyInput) => (p.categories[5].legalMinimum = 'P0D'),
      /categories\[5\] \(payroll-document\): legalMinimum must be longer than P0D/,
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

  it('reads RETENTION_POLICY_FILE and TENANTS_FILE when set', () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'policy-'));
    writeFileSync(path.join(dir, 'policy.json'), JSON.stringify(clone()));
    writeFileSync(
      path.join(dir, 'tenants.json'),
      JSON.stringify(tenants({ fiscalYearEnd: '03-31' })),
    );
    // Act
    const policy = defaultRetentionPolicy({
      RETENTION_POLICY_FILE: path.join(dir, 'policy.json'),
      TENANTS_FILE: path.join(dir, 'tenants.json'),
    });
    // Assess
    expect(policy.forTenant('acme-sas').fiscalYearEnd).toBe('03-31');
    expect(policy.forTenant('other').fiscalYearEnd).toBe('12-31');
  });
});

describe("controllers' instructions (config/tenants.json)", () => {
  it('resolves one policy per tenant: its periods, fiscal year end and time zone', () => {
    // Prepare
    const input = tenants({
      fiscalYearEnd: '03-31',
      timeZone: 'America/Martinique',
      retention: { 'accounting-document': 'P12Y', 'prospect-contact': 'P1Y' },
    });
    // Act
    const policy = loadRetentionPolicy(clone(), input);
    const acme = policy.forTenant('acme-sas');
    const other = policy.forTenant('beta-gmbh');
    // Assess
    expect(acme).toMatchObject({
      configured: true,
      controller: { name: 'ACME SAS', contact: 'dpo@acme.example' },
      fiscalYearEnd: '03-31',
      timeZone: 'America/Martinique',
    });
    expect(acme.category('accounting-document')).toMatchObject({
      duration: { years: 12, months: 0, days: 0 },
      period: { years: 12, months: 0, days: 0 },
      instructed: { years: 12, months: 0, days: 0 },
      policyPeriod: { years: 10, months: 0, days: 0 },
      legalDuty: { years: 10, months: 0, days: 0 },
    });
    expect(acme.overrides.map((c) => c.id)).toEqual(['accounting-document', 'prospect-contact']);
    expect(other.category('accounting-document').period).toEqual({ years: 10, months: 0, days: 0 });
    expect(other.category('accounting-document').instructed).toBeUndefined();
    expect(other.timeZone).toBe('Europe/Paris');
    expect(policy.configuredTenants().map((t) => t.tenant)).toEqual(['acme-sas']);
  });

  it("computes due dates from the tenant's period, and the legal duty once restricted", () => {
    // Prepare
    const policy = loadRetentionPolicy(
      clone(),
      tenants({ retention: { 'accounting-document': 'P12Y' } }),
    );
    const acme = policy.forTenant('acme-sas');
    const invoices = acme.category('accounting-document');
    // Act
    const kept = acme.dueDate(invoices, { documentDate: '2026-03-13' });
    const restricted = acme.dueDate(invoices, { documentDate: '2026-03-13', restricted: true });
    // Assess: fiscal year 2026 ends at midnight in Paris (23:00 UTC on 31 December).
    expect(kept?.toISOString()).toBe('2038-12-31T23:00:00.000Z');
    expect(restricted?.toISOString()).toBe('2036-12-31T23:00:00.000Z');
  });

  it.each([
    [
      'a period longer than the legal maximum',
      tenants({ retention: { 'prospect-contact': 'P5Y' } }),
      'tenant acme-sas, category prospect-contact: P5Y is longer than the legal maximum P3Y',
    ],
    [
      'a period shorter than the legal minimum',
      tenants({ retention: { 'accounting-document': 'P6Y' } }),
      'tenant acme-sas, category accounting-document: P6Y is shorter than the legal minimum P10Y',
    ],
    [
      'a category the policy does not have',
      tenants({ retention: { 'cat-pictures': 'P1Y' } }),
      'tenant acme-sas, category cat-pictures: the retention policy has no such category',
    ],
    [
      'a period that is not ISO 8601',
      tenants({ retention: { 'prospect-contact': 'two years' } }),
      'tenant acme-sas, category prospect-contact: must be an ISO 8601 period',
    ],
    [
      'an unknown time zone',
      tenants({ timeZone: 'Mars/Olympus_Mons' }),
      'tenant acme-sas: timeZone must be an IANA time zone',
    ],
    [
      'a fiscal year end that does not exist',
      tenants({ fiscalYearEnd: '02-30' }),
      'tenant acme-sas: fiscalYearEnd must be a month-day MM-DD',
    ],
    [
      'a controller without contact',
      { version: 1, tenants: { 'acme-sas': { controller: { name: 'ACME SAS' } } } },
      'tenant acme-sas: controller.contact is required',
    ],
    [
      'an unknown default time zone',
      tenants({}, { timeZone: 'Paris' }),
      'defaults.timeZone must be an IANA time zone',
    ],
  ])('refuses %s, naming the tenant and the category', (_name, input, message) => {
    // Act
    const load = () => loadRetentionPolicy(clone(), input);
    // Assess
    expect(load).toThrow(ConfigurationError);
    expect(load).toThrow(message);
  });

  it('refuses to change a category whose legal bounds the policy does not state', () => {
    // Prepare
    const policy = clone();
    delete policy.categories[3].legalMinimum;
    delete policy.categories[3].legalMaximum;
    // Act
    const load = () =>
      loadRetentionPolicy(policy, tenants({ retention: { 'prospect-contact': 'P1Y' } }));
    // Assess
    expect(load).toThrow(
      'tenant acme-sas, category prospect-contact: the policy states no legal bounds for it',
    );
  });

  it('ships a tenants file that loads with the policy', () => {
    // Act
    const policy = loadRetentionPolicy(
      path.join(__dirname, '../../config/retention-policy.json'),
      path.join(__dirname, '../../config/tenants.json'),
    );
    // Assess
    expect(policy.forTenant('anyone').timeZone).toBe('Europe/Paris');
  });
});
