import defaultPolicy from '../../config/retention-policy.json';
import { loadRetentionPolicy } from '../../shared/retention/policy';
import { decideReschedule } from '../../shared/retention/rescheduling';
import { reschedule, type DocumentItem } from '../../shared/retention/retention-items';

const NOW = new Date('2026-12-02T12:00:00Z');
const tenants = {
  version: 1,
  tenants: {
    'acme-sas': {
      controller: { name: 'ACME SAS', contact: 'dpo@acme.example' },
      retention: {
        'payroll-document': 'P8Y',
        'prospect-contact': 'P1Y',
        'accounting-document': 'P12Y',
      },
    },
  },
};
const before = loadRetentionPolicy(defaultPolicy);
const after = loadRetentionPolicy(defaultPolicy, tenants);

/** A stored document scheduled as the default policy had it. */
function stored(
  category: string,
  documentDate: string,
  extra: Partial<DocumentItem> = {},
  closedAt?: string,
): DocumentItem {
  const tenantPolicy = before.forTenant(extra.tenant ?? 'acme-sas');
  const due = tenantPolicy.dueDate(tenantPolicy.category(category), {
    documentDate,
    closedAt,
    restricted: extra.restricted,
  });
  return reschedule({
    pk: 'T#acme-sas#S#abc',
    sk: `DOC#${category}-${documentDate}`,
    kind: 'document',
    tenant: 'acme-sas',
    subject: 'abc',
    documentId: 'd',
    document: 'e',
    category,
    keyClass: category,
    size: 1,
    sha256: '0',
    state: 'active',
    eventKey: 'k',
    payloadHash: 'p',
    logObjectKey: 'l',
    eventTime: documentDate,
    documentDate,
    ...(due ? { dueAt: due.toISOString() } : {}),
    storedAt: documentDate,
    rev: 3,
    ...extra,
  });
}
const decide = (item: DocumentItem, closedAt?: string, atOnce = false) =>
  decideReschedule(item, after, closedAt, { now: NOW, atOnce });

describe('what a policy change does to a stored document', () => {
  it('moves a document later when its controller keeps it longer', () => {
    // Prepare
    const item = stored('payroll-document', '2026-03-13T00:00:00.000Z');
    // Act
    const decision = decide(item);
    // Assess
    expect(decision).toMatchObject({
      kind: 'later',
      from: '2031-03-13T00:00:00.000Z',
      to: '2034-03-13T00:00:00.000Z',
    });
  });

  it('gives a document the change makes due already a grace of 7 days, unless asked to delete at once', () => {
    // Prepare: prospect data of an account closed 2024-06-01: P3Y ends 2027, P1Y ended 2025.
    const closedAt = '2024-06-01T00:00:00.000Z';
    const item = stored('prospect-contact', closedAt, {}, closedAt);
    // Act
    const graced = decide(item, closedAt);
    const atOnce = decide(item, closedAt, true);
    const again = decide({ ...item, dueAt: graced!.to }, closedAt);
    // Assess
    expect(item.dueAt).toBe('2027-06-01T00:00:00.000Z');
    expect(graced).toMatchObject({
      kind: 'at-once',
      deferred: true,
      to: '2026-12-09T12:00:00.000Z',
    });
    expect(graced!.policyDue).toBe('2025-06-01T00:00:00.000Z');
    expect(atOnce).toMatchObject({ kind: 'at-once', to: '2025-06-01T00:00:00.000Z' });
    expect(atOnce!.deferred).toBeUndefined();
    expect(again).toMatchObject({ kind: 'unchanged' });
    expect(again!.to).toBeUndefined();
  });

  it('keeps a restricted document until its legal duty ends, whatever the controller instructs', () => {
    // Prepare
    const item = stored('accounting-document', '2026-03-13T00:00:00.000Z', {
      restricted: true,
      restrictionGround: '17(3)(b) legal obligation',
    });
    // Act
    const decision = decide(item);
    // Assess
    expect(item.state).toBe('restricted');
    expect(decision).toMatchObject({ kind: 'unchanged' });
  });

  it('reschedules a held document and leaves it held', () => {
    // Prepare
    const item = stored('payroll-document', '2020-01-10T00:00:00.000Z', { held: true });
    // Act
    const decision = decide(item);
    // Assess
    expect(item.expiresAt).toBeUndefined();
    expect(decision).toMatchObject({ kind: 'held', to: '2028-01-10T00:00:00.000Z' });
  });

  it('leaves waiting documents, deferred erasures, unknown categories and removed documents', () => {
    // Prepare / Act / Assess
    expect(decide(stored('case-document', '2026-03-13T00:00:00.000Z'))).toMatchObject({
      kind: 'waiting',
    });
    expect(
      decide(
        stored('payroll-document', '2026-03-13T00:00:00.000Z', {
          erasurePending: 'r1',
          held: true,
        }),
      ),
    ).toMatchObject({ kind: 'skipped' });
    expect(
      decide({ ...stored('payroll-document', '2026-03-13T00:00:00.000Z'), category: 'gone' }),
    ).toMatchObject({
      kind: 'skipped',
    });
    expect(
      decide(stored('payroll-document', '2026-03-13T00:00:00.000Z', { state: 'expiring' })),
    ).toBeUndefined();
  });

  it('changes nothing for a tenant the instructions do not list', () => {
    // Prepare
    const item = stored('payroll-document', '2026-03-13T00:00:00.000Z', { tenant: 'beta-gmbh' });
    // Act / Assess
    expect(decide(item)).toMatchObject({ kind: 'unchanged' });
  });
});
