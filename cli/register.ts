import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Period } from '../shared/retention/schedule';
import {
  loadRetentionPolicy,
  type RetentionCategory,
  type RetentionPolicy,
} from '../shared/retention/policy';
import type { TenantCategory, TenantPolicy } from '../shared/retention/tenant-policy';
import { csvField } from './output';

/** The policy file the functions are built with. */
export const DEFAULT_POLICY_FILE = 'config/retention-policy.json';
/** The controllers' instructions the functions are built with. */
export const DEFAULT_TENANTS_FILE = 'config/tenants.json';

/** One entry of the GDPR Art. 30 record of processing activities. */
export interface RegisterEntry {
  readonly activity: string;
  readonly category: string;
  readonly purpose: string;
  readonly legalBasis: string;
  readonly sensitive: string;
  readonly retention: string;
  readonly erasure: string;
  readonly legalBounds: string;
  readonly recipients: string;
  readonly transfers: string;
  readonly security: string;
}

/** What the processor does for one controller (GDPR Art. 30(2)), and its instructions. */
export interface ControllerEntry {
  readonly tenant: string;
  readonly name: string;
  readonly contact: string;
  readonly fiscalYearEnd: string;
  readonly timeZone: string;
  /** Every category processed on its behalf, with the retention that applies to it. */
  readonly categories: ReadonlyArray<{
    readonly category: string;
    readonly activity: string;
    readonly retention: string;
    /** The controller's instruction, or `policy default`. */
    readonly source: string;
  }>;
}

/** The register with what identifies the policy and instructions it was generated from. */
export interface ProcessingRegister {
  readonly policyFile: string;
  readonly policySha256: string;
  readonly tenantsFile: string;
  readonly tenantsSha256: string;
  readonly generatedAt: string;
  readonly entries: readonly RegisterEntry[];
  readonly controllers: readonly ControllerEntry[];
  /** Fiscal year end and time zone of the tenants the instructions do not list. */
  readonly defaults: { readonly fiscalYearEnd: string; readonly timeZone: string };
}

const ANCHORS: Record<RetentionCategory['anchor'], string> = {
  'document-date': "the document's date",
  'fiscal-year-end': "the end of the fiscal year of the document's date",
  'relationship-end': 'the end of the relationship (account closure)',
};

/** "10 years", "1 year 6 months", "30 days". */
export function describePeriod(p: Period): string {
  const parts = [
    [p.years, 'year'],
    [p.months, 'month'],
    [p.days, 'day'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, unit]) => `${n} ${unit}${n === 1 ? '' : 's'}`);
  return parts.join(' ') || '0 days';
}

const SECURITY =
  'KMS encryption at rest (per-tenant wrapping keys, per-subject data keys), TLS only, least-privilege IAM per function, subjects pseudonymised (KMS HMAC) in logs, immutable processing log (S3 Object Lock, compliance mode)';

/** The retention of a category in words: its period from its anchor. */
export function describeRetention(c: RetentionCategory): string {
  return c.duration
    ? `${describePeriod(c.duration)} from ${ANCHORS[c.anchor]}`
    : `nothing kept after closure: deleted ${describePeriod(c.graceAfterClosure ?? { years: 0, months: 0, days: 0 })} after ${ANCHORS[c.anchor]}`;
}

/** The register entry of one category of the policy. */
export function registerEntry(c: RetentionCategory): RegisterEntry {
  const retention = describeRetention(c);
  const erasure =
    c.erasure === 'delete'
      ? 'deleted at once on an erasure request'
      : `restricted on an erasure request (Art. ${c.restrictionGround ?? '17(3)'}), deleted when the retention ends`;
  return {
    activity: c.description,
    category: c.id,
    purpose: c.purpose,
    legalBasis: c.legalBasis,
    sensitive: c.sensitive ? 'yes (Art. 9: isolated under its own key)' : 'no',
    retention,
    erasure,
    legalBounds:
      c.legalMinimum && c.legalMaximum
        ? `a controller may instruct ${describePeriod(c.legalMinimum)} to ${describePeriod(c.legalMaximum)}`
        : 'fixed: no controller may change it',
    recipients:
      'the controller (the tenant); the controller on an access or portability request; AWS as sub-processor (hosting)',
    transfers: 'none outside the EU (AWS eu-west-3 Paris or eu-west-1 Dublin only)',
    security: SECURITY,
  };
}

/** Where a tenant's period for a category comes from, in words. */
function sourceOf(c: TenantCategory): string {
  return c.instructed
    ? `controller's instruction (policy default ${describePeriod(c.policyPeriod)})`
    : 'policy default';
}

/** The Art. 30(2) entry of one controller the instructions list. */
export function controllerEntry(t: TenantPolicy): ControllerEntry {
  return {
    tenant: t.tenant,
    name: t.controller!.name,
    contact: t.controller!.contact,
    fiscalYearEnd: t.fiscalYearEnd,
    timeZone: t.timeZone,
    categories: t.categories.map((c) => ({
      category: c.id,
      activity: c.description,
      retention: describeRetention(c),
      source: sourceOf(c),
    })),
  };
}

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Builds the Art. 30 register from the retention policy and the controllers' instructions, the
 * same files the functions enforce, so the two cannot disagree; the register names the files and
 * their SHA-256.
 */
export function buildRegister(
  policyFile: string = DEFAULT_POLICY_FILE,
  tenantsFile: string = DEFAULT_TENANTS_FILE,
  now: Date = new Date(),
  load: (policy: string, tenants: string) => RetentionPolicy = loadRetentionPolicy,
): ProcessingRegister {
  const policy = load(policyFile, tenantsFile);
  return {
    policyFile,
    policySha256: sha256Of(policyFile),
    tenantsFile,
    tenantsSha256: sha256Of(tenantsFile),
    generatedAt: now.toISOString(),
    entries: policy.categories.map(registerEntry),
    controllers: policy.configuredTenants().map(controllerEntry),
    defaults: policy.instructions.defaults,
  };
}

const COLUMNS: ReadonlyArray<[keyof RegisterEntry, string]> = [
  ['activity', 'Processing activity'],
  ['category', 'Data category'],
  ['purpose', 'Purpose'],
  ['legalBasis', 'Legal basis'],
  ['sensitive', 'Special category'],
  ['retention', 'Retention'],
  ['erasure', 'On erasure request'],
  ['legalBounds', 'Legal bounds'],
  ['recipients', 'Recipients'],
  ['transfers', 'Transfers outside the EU'],
  ['security', 'Security measures'],
];

/** The register as CSV: one row per processing activity. */
export function registerCsv(register: ProcessingRegister): string {
  return (
    [
      COLUMNS.map(([, title]) => csvField(title)).join(','),
      ...register.entries.map((e) => COLUMNS.map(([k]) => csvField(e[k])).join(',')),
    ].join('\n') + '\n'
  );
}

/** What the processor does for each controller as CSV: one row per controller and category. */
export function controllersCsv(register: ProcessingRegister): string {
  const header = [
    'Tenant',
    'Controller',
    'Contact',
    'Fiscal year end',
    'Time zone',
    'Data category',
    'Retention',
    'Source',
  ];
  const rows = register.controllers.flatMap((c) =>
    c.categories.map((k) => [
      c.tenant,
      c.name,
      c.contact,
      c.fiscalYearEnd,
      c.timeZone,
      k.category,
      k.retention,
      k.source,
    ]),
  );
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

/** The Markdown section of GDPR Art. 30(2): each controller, and what is processed for it. */
function controllersMarkdown(register: ProcessingRegister): string[] {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const { defaults } = register;
  const lines = [
    '## Controllers on whose behalf the processor acts (GDPR Art. 30(2))',
    '',
    `From \`${register.tenantsFile}\` (SHA-256 \`${register.tenantsSha256}\`). Every category of the`,
    'policy is processed for every controller; the retention that applies to each is below, with the',
    "controller's instructions marked. A tenant the file does not list is processed under the policy",
    `defaults (fiscal year end ${defaults.fiscalYearEnd}, time zone ${defaults.timeZone}) and has no`,
    'controller details here: add it to the file.',
    '',
  ];
  if (register.controllers.length === 0) return [...lines, 'No controller is listed yet.', ''];
  lines.push(
    '| Tenant | Controller | Contact | Fiscal year end | Time zone | Instructions |',
    '|---|---|---|---|---|---|',
    ...register.controllers.map((c) => {
      const changed = c.categories.filter((k) => k.source !== 'policy default');
      const instructions =
        changed.map((k) => `\`${k.category}\`: ${k.retention}`).join('; ') || 'policy defaults';
      return `| \`${c.tenant}\` | ${cell(c.name)} | ${cell(c.contact)} | ${c.fiscalYearEnd} | ${c.timeZone} | ${cell(instructions)} |`;
    }),
    '',
  );
  for (const c of register.controllers) {
    lines.push(`### ${c.name} (\`${c.tenant}\`)`, '', `Contact: ${c.contact}.`, '');
    for (const k of c.categories)
      lines.push(`- \`${k.category}\` (${k.activity}): ${k.retention}; ${k.source}`);
    lines.push('');
  }
  return lines;
}

/** The register as Markdown: a summary table, then one section per activity. */
export function registerMarkdown(register: ProcessingRegister): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '# Record of processing activities (GDPR Art. 30)',
    '',
    `Generated ${register.generatedAt} by \`privacy-ops register\` from \`${register.policyFile}\``,
    `(SHA-256 \`${register.policySha256}\`), the retention policy the pipeline enforces.`,
    '',
    'Processor: the privacy-ops operator, processing on behalf of each tenant (the controller) named',
    'in every event. Security measures for every activity: ' + SECURITY + '.',
    '',
    '| Data category | Purpose | Legal basis | Retention | On erasure request | Special category |',
    '|---|---|---|---|---|---|',
    ...register.entries.map(
      (e) =>
        `| \`${e.category}\` | ${cell(e.purpose)} | ${cell(e.legalBasis)} | ${cell(e.retention)} | ${cell(e.erasure)} | ${cell(e.sensitive)} |`,
    ),
    '',
    ...controllersMarkdown(register),
  ];
  for (const e of register.entries) {
    lines.push(`## ${e.activity} (\`${e.category}\`)`, '');
    for (const [k, title] of COLUMNS) if (k !== 'activity') lines.push(`- **${title}:** ${e[k]}`);
    lines.push('');
  }
  return lines.join('\n');
}
